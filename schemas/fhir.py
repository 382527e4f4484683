"""The answer of POST /v1/fhir/explain: the usual explanation of the case built from a FHIR Bundle, and
where each input of that case came from."""

from pydantic import Field

from schemas.explanation import Explanation

MappedFrom = dict[str, list[dict[str, str]] | str]


class FhirExplanation(Explanation):
    mapped_from: MappedFrom = Field(
        description=(
            "For every case field (and `liver_metastases`): the resources it was read from, each as "
            '`{"reference": "Type/id", "element": "<element read>"}` with a `note` where the mapping adds '
            "something (an unmapped code read as `other`, the extrahepatic convention, the latest of several "
            "ECOG scores), or one sentence when nothing was read: `not found` (left unknown, never guessed), "
            "a value read from the absence of any resource (extrahepatic disease `none`), or an input this "
            "mapping does not read from FHIR."
        )
    )
