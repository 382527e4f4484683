"""Helpers for the CDS Hooks tests: a tiny FHIR "server" that answers this service's prefetch templates from a
golden Bundle's resources (used both to build `prefetch` bodies and behind the loopback stub), the stub server
itself (http.server in a thread on 127.0.0.1, recording every request), the JSON Schemas of the repository,
and the walk that finds values the specification forbids."""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jsonschema_rs

from app.cds.discovery import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent
FHIR_FIXTURES = ROOT / "tests" / "fixtures" / "fhir"
SCHEMAS = ROOT / "schemas" / "json" / "cds-hooks"
SERVICE_URL = "/cds-services/livermets-overview"


def validator(name: str) -> jsonschema_rs.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


DISCOVERY_SCHEMA = validator("discovery")
RESPONSE_SCHEMA = validator("response")


def empty_values(value: Any, path: str = "$") -> list[str]:
    """Where `value` holds null, "", [] or {} (the specification forbids them unless it says otherwise)."""
    if value is None or value == "" or value == [] or value == {}:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in empty_values(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in empty_values(v, f"{path}[{i}]")]
    return []


def case_in_link(card: dict[str, Any]) -> dict[str, Any]:
    """The case in the card's link to the page (`/?case=<JSON>`)."""
    (link,) = card["links"]
    assert link["type"] == "absolute"
    url = urlsplit(link["url"])
    assert url.path.endswith("/")
    found: dict[str, Any] = json.loads(parse_qs(url.query)["case"][0])
    return found


def chart(name: str) -> list[dict[str, Any]]:
    """The resources of a golden Bundle of tests/fixtures/fhir/."""
    bundle = json.loads((FHIR_FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return [e["resource"] for e in bundle["entry"]]


def _codes(resource: dict[str, Any]) -> set[str]:
    return {f"{c.get('system')}|{c.get('code')}" for c in resource.get("code", {}).get("coding", [])}


def answer(resources: list[dict[str, Any]], query: str) -> dict[str, Any] | None:
    """What a FHIR server holding `resources` answers to a read or to a search of the forms the templates use
    (patient reference, token equality with system|code values, _sort=-date, _count): None for a read of a
    resource it does not have."""
    path, _, query_string = query.partition("?")
    if "/" in path:
        kind, rid = path.split("/", 1)
        return next((r for r in resources if r["resourceType"] == kind and r.get("id") == rid), None)
    params = dict(parse_qsl(query_string))
    found = [r for r in resources if r["resourceType"] == path]
    if "patient" in params:
        found = [r for r in found if r.get("subject", {}).get("reference") == f"Patient/{params['patient']}"]
    if "code" in params:
        wanted = set(params["code"].split(","))
        found = [r for r in found if _codes(r) & wanted]
    if params.get("_sort") == "-date":
        found.sort(key=lambda r: str(r.get("effectiveDateTime", "")), reverse=True)
    if "_count" in params:
        found = found[: int(params["_count"])]
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in found]}


def prefetch(resources: list[dict[str, Any]], patient_id: str = "p1") -> dict[str, Any]:
    """Every prefetch key filled as a CDS client would: the template's answer, null for no data."""
    out: dict[str, Any] = {}
    for template in TEMPLATES:
        result = answer(resources, template.for_patient(patient_id))
        out[template.key] = None if result is None or result.get("entry") == [] else result
    return out


def hook_call(resources: list[dict[str, Any]] | None = None, patient_id: str = "p1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if resources is not None:
        body["prefetch"] = prefetch(resources, patient_id)
    return {**body, **fields}


@dataclass
class Seen:
    path: str
    query: str
    authorization: str | None


Handler = Callable[[str, str], tuple[int, Any]]


@dataclass
class Stub:
    base: str
    requests: list[Seen] = field(default_factory=list)


@contextmanager
def stub_server(handle: Handler) -> Iterator[Stub]:
    """An HTTP server on 127.0.0.1 answering GETs with `handle(path, query) -> (status, JSON)`, in a thread."""
    stub = Stub(base="")

    class Reply(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            stub.requests.append(Seen(parts.path, parts.query, self.headers.get("Authorization")))
            status, body = handle(parts.path, parts.query)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Reply)
    stub.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="cds-stub", daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
