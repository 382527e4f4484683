"""The CDS Hooks 2.0 contract of /cds-services: the request an EHR sends to a service, and the discovery and
card responses. Responses are serialised without null fields: the specification forbids null and empty
values, so every optional field is either filled or left out (tests check it recursively)."""

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# FHIR's id datatype: it is put into FHIR query URLs, so nothing else may pass.
FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FhirAuthorization(Strict):
    """The bearer token the EHR grants the service for its FHIR server (only `access_token` is used)."""

    access_token: str = Field(min_length=1, max_length=8192)
    token_type: str = Field(description="`Bearer`.")
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        if value.lower() != "bearer":
            raise ValueError("token_type must be Bearer")
        return value


class PatientViewContext(Strict):
    """The context of the patient-view hook."""

    patientId: str = Field(pattern=FHIR_ID, description="FHIR id of the patient whose chart is open.")
    userId: str | None = Field(default=None, max_length=200, description="The user, e.g. `Practitioner/123`.")
    encounterId: str | None = Field(default=None, max_length=64)


class CdsRequest(Strict):
    """A call of a CDS service (CDS Hooks 2.0, "Calling a CDS Service")."""

    hook: Literal["patient-view"]
    hookInstance: str = Field(min_length=1, max_length=100, description="UUID of this hook call.")
    fhirServer: str | None = Field(default=None, description="Base URL of the EHR's FHIR server.")
    fhirAuthorization: FhirAuthorization | None = None
    context: PatientViewContext
    prefetch: dict[str, dict[str, Any] | None] | None = Field(
        default=None,
        description="Prefetched data by prefetch key: a FHIR resource, a searchset Bundle, or null when the chart "
        "has no data for the template.",
    )
    extension: dict[str, Any] | None = None

    @field_validator("fhirServer")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
            raise ValueError("fhirServer must be an absolute http(s) URL without credentials or query")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _server_for_token(self) -> "CdsRequest":
        # The specification's rule: a token is only ever for a named FHIR server.
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirAuthorization is given without fhirServer")
        return self


class CdsService(Strict):
    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str]


class Discovery(Strict):
    services: list[CdsService]


class Source(Strict):
    label: str = Field(min_length=1)
    url: str | None = Field(default=None, description="Absolute URL about the rulebook and its sources.")


class Link(Strict):
    label: str = Field(min_length=1)
    url: str = Field(description="Absolute URL of the page with this case filled in and explained.")
    type: Literal["absolute"]


class Card(Strict):
    uuid: str
    summary: str = Field(min_length=1, max_length=139)
    detail: str = Field(min_length=1, description="GitHub-flavoured Markdown.")
    indicator: Literal["info"]
    source: Source
    links: list[Link] | None = Field(default=None, min_length=1)


class CdsResponse(Strict):
    """The cards; `[]` when the service has nothing to say (no liver metastases on the chart)."""

    cards: list[Card]
