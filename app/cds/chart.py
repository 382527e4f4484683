"""Reading the chart for one patient-view call: each prefetch template's data from the request's `prefetch`, or,
for a key the EHR left out, from its FHIR server with the token it gave (CDS Hooks 2.0, "FHIR Resource Access").

A needed key neither given nor fetched makes the call fail with 412 (`ChartUnavailable`); an optional key is
then left out and its inputs stay unknown (`Chart.not_read` says which). The token is only ever sent to the
EHR's own FHIR server: a `next` page link elsewhere is not followed."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app.cds.discovery import BY_KEY, TEMPLATES, Template
from app.fhir.mapping import FhirInputError, resources_from_bundle
from schemas.cds_hooks import CdsRequest

FETCH_TIMEOUT_S = 5.0
MAX_PAGES = 10  # of one search, following the Bundle's `next` links
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Issue:
    """One thing wrong with the call (the routes answer it in the service's error body)."""

    field: str
    message: str
    kind: str | None = None


class ChartUnavailable(Exception):
    """Needed data is neither in the prefetch nor obtainable from the FHIR server (answered with 412)."""

    def __init__(self, problems: list[Issue]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class BadPrefetch(Exception):
    """The request's prefetch data cannot be read (answered with 400, naming the key and element)."""

    def __init__(self, problems: list[Issue]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class FetchFailed(Exception):
    pass


@dataclass(frozen=True)
class Chart:
    resources: list[dict[str, Any]]
    # Optional templates whose data the EHR neither sent nor let the service fetch: their inputs are unknown.
    not_read: list[Template]


class FhirClient:
    """GETs from an EHR's FHIR server with the bearer token of the call. `allowed`: URL prefixes of the servers
    this service may call (LIVERMETS_CDS_FHIR_SERVERS); empty allows any."""

    def __init__(self, allowed: Sequence[str] = (), transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.allowed = tuple(allowed)
        self.transport = transport

    def allows(self, server: str) -> bool:
        return not self.allowed or any(server == a.rstrip("/") or server.startswith(a) for a in self.allowed)

    async def read(self, server: str, token: str, relative: str) -> dict[str, Any]:
        """The resource, or for a search one searchset Bundle holding every page's entries."""
        headers = {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON}
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_S, follow_redirects=False, transport=self.transport) as http:
            document = await self._get(http, f"{server}/{relative}", headers)
            if document.get("resourceType") != "Bundle":
                return document
            entries = list(document.get("entry") or [])
            for _ in range(MAX_PAGES - 1):
                following = _next_link(document)
                if following is None:
                    break
                if not following.startswith(server + "/"):
                    raise FetchFailed("a next-page link leads away from the FHIR server")
                document = await self._get(http, following, headers)
                entries += document.get("entry") or []
            else:
                if _next_link(document) is not None:
                    raise FetchFailed(f"the search has more than {MAX_PAGES} pages")
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    @staticmethod
    async def _get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
        try:
            response = await http.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"the FHIR server could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise FetchFailed(f"the FHIR server answered HTTP {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise FetchFailed(f"the FHIR server's answer is over {MAX_RESPONSE_BYTES} bytes")
        try:
            document = response.json()
        except ValueError:
            raise FetchFailed("the FHIR server's answer is not JSON") from None
        if not isinstance(document, dict):
            raise FetchFailed("the FHIR server's answer is not a FHIR resource")
        return document


def _next_link(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            url: str = link["url"]
            return url
    return None


def fhir_problems(where: str, error: FhirInputError) -> list[Issue]:
    """The mapping's problems as the service's error items, each field prefixed with `where`."""
    return [Issue(f"{where}.{p.field}", p.message, p.type) for p in error.problems]


def _other_patient(resource: dict[str, Any], patient_id: str) -> str | None:
    """The reference of a resource that is about a patient other than the one in context, else None (references
    that do not name a Patient id, such as urn:uuid ones inside a Bundle, cannot be compared and pass)."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return f"Patient/{rid}" if isinstance(rid, str) and rid != patient_id else None
    for element in ("subject", "patient"):
        ref = resource.get(element)
        text = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(text, str):
            parts = text.split("/")
            if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1] != patient_id:
                return text
    return None


def resources_of(key: str, value: dict[str, Any] | None, patient_id: str) -> list[dict[str, Any]]:
    """The resources of one prefetch value: none for null, a Bundle's entries, or the resource itself."""
    if value is None:
        return []
    try:
        found = resources_from_bundle(value) if value.get("resourceType") == "Bundle" else [value]
    except FhirInputError as exc:
        raise BadPrefetch(fhir_problems(f"prefetch.{key}", exc)) from None
    strangers = [(i, ref) for i, r in enumerate(found) if (ref := _other_patient(r, patient_id)) is not None]
    if strangers:
        raise BadPrefetch(
            [
                Issue(f"prefetch.{key}", f"resource {i} is about {ref}, not Patient/{patient_id} of the context")
                for i, ref in strangers
            ]
        )
    return found


async def read_chart(request: CdsRequest, client: FhirClient) -> Chart:
    given = request.prefetch or {}
    unknown = [k for k in given if k not in BY_KEY]
    if unknown:
        allowed = ", ".join(BY_KEY)
        raise BadPrefetch(
            [Issue(f"prefetch.{k}", f"unknown prefetch key; this service's keys: {allowed}") for k in unknown]
        )
    patient_id = request.context.patientId
    server, auth = request.fhirServer, request.fhirAuthorization
    can_fetch = server is not None and auth is not None and client.allows(server)
    absent = [t for t in TEMPLATES if t.key not in given]
    fetched: list[dict[str, Any] | FetchFailed] = []
    if can_fetch and absent:
        assert server is not None and auth is not None
        fetched = await asyncio.gather(
            *(client.read(server, auth.access_token, t.for_patient(patient_id)) for t in absent),
            return_exceptions=True,
        )  # type: ignore[assignment]
        for outcome in fetched:
            if isinstance(outcome, BaseException) and not isinstance(outcome, FetchFailed):
                raise outcome
    resources: list[dict[str, Any]] = []
    for t in TEMPLATES:
        if t.key in given:
            resources += resources_of(t.key, given[t.key], patient_id)
    unavailable: list[Issue] = []
    not_read: list[Template] = []
    for i, t in enumerate(absent):
        outcome = fetched[i] if fetched else FetchFailed(_why_not_fetched(request, client))
        if not isinstance(outcome, FetchFailed):
            try:
                resources += resources_of(t.key, outcome, patient_id)
                continue
            except BadPrefetch as bad:
                outcome = FetchFailed("the FHIR server's answer cannot be read: " + str(bad))
        if t.needed:
            unavailable.append(Issue(f"prefetch.{t.key}", f"{t.about} not prefetched, and {outcome}"))
        else:
            not_read.append(t)
    if unavailable:
        raise ChartUnavailable(unavailable)
    return Chart(_unique(resources), not_read)


def _why_not_fetched(request: CdsRequest, client: FhirClient) -> str:
    if request.fhirServer is None or request.fhirAuthorization is None:
        return "no fhirServer with fhirAuthorization was given to fetch it"
    return "this service is not configured to fetch from that fhirServer (LIVERMETS_CDS_FHIR_SERVERS)"


def _unique(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One copy of each resource that several templates returned (by type and id)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for resource in resources:
        rid = resource.get("id")
        key = (str(resource.get("resourceType")), rid) if isinstance(rid, str) else None
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        kept.append(resource)
    return kept
