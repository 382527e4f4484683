"""The one CDS service this app offers and its prefetch templates.

The templates use only what CDS Hooks 2.0 allows a prefetch template ("Prefetch query restrictions"): an
instance read, type-level searches by patient reference, token parameters by equality (`system|code`,
several values separated by commas), `_sort` for the most recent and `_count`, and the one prefetch token
`{{context.patientId}}` of the patient-view hook."""

from dataclasses import dataclass

from schemas.cds_hooks import CdsService, Discovery

SERVICE_ID = "livermets-overview"
HOOK = "patient-view"
PATIENT_TOKEN = "{{context.patientId}}"
LOINC = "http://loinc.org"
ER_PR_CODES = ("16112-5", "85337-4", "40556-3", "16113-3", "85339-0", "40557-1")


@dataclass(frozen=True)
class Template:
    key: str
    query: str
    # What the data is, in words (412 answers and the card name it).
    about: str
    # Needed: without it no case can be built (primary site, liver metastases, lesions, ECOG). The others
    # feed optional inputs, which are left unknown when the EHR gives neither the data nor a FHIR server.
    needed: bool

    def for_patient(self, patient_id: str) -> str:
        """The relative FHIR request (patient_id is a FHIR id: letters, digits, '-' and '.' only)."""
        return self.query.replace(PATIENT_TOKEN, patient_id)


def _observations(*codes: str) -> str:
    return f"Observation?patient={PATIENT_TOKEN}&code=" + ",".join(f"{LOINC}|{c}" for c in codes)


TEMPLATES: tuple[Template, ...] = (
    Template("patient", f"Patient/{PATIENT_TOKEN}", "the patient", needed=False),
    Template("conditions", f"Condition?patient={PATIENT_TOKEN}", "conditions (primary and secondary cancers)", True),
    Template(
        "ecog",
        _observations("89247-1") + "&_sort=-date&_count=1",
        "the latest ECOG performance status (LOINC 89247-1)",
        True,
    ),
    Template("tumourSizes", _observations("21889-1"), "tumour size observations (LOINC 21889-1)", True),
    Template("genomicVariants", _observations("69548-6"), "genomic variant observations (LOINC 69548-6)", False),
    # Oestrogen and progesterone receptor results: the codes the mapping reads (app/fhir/codes.yaml).
    Template(
        "tumourMarkers",
        _observations(*ER_PR_CODES),
        "ER/PR tumour marker observations (LOINC " + ", ".join(ER_PR_CODES) + ")",
        False,
    ),
)
BY_KEY = {t.key: t for t in TEMPLATES}

SERVICE = CdsService(
    hook=HOOK,
    id=SERVICE_ID,
    title="Liver metastases: treatment categories commonly discussed (educational)",
    description=(
        "For a patient with liver metastases on the chart (mCODE conditions and observations), which treatment "
        "categories five public source documents describe as commonly discussed, why, with verbatim quotes. "
        "An educational overview for preparing the multidisciplinary team (MDT) meeting: not advice, decides nothing."
    ),
    prefetch={t.key: t.query for t in TEMPLATES},
)


def discovery() -> Discovery:
    return Discovery(services=[SERVICE])
