"""The CDS client's JWT (CDS Hooks 2.0, "Trusting CDS Clients"), when LIVERMETS_CDS_JWT_ISSUERS turns it on: keys
generated here (EC P-384 and RSA), the issuer's JWK Set served by a stub on 127.0.0.1."""

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.cds_support import SERVICE_URL, Stub, chart, hook_call, stub_server

ISSUER = "https://ehr.example.org/"
BASE = "http://testserver"
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER_KEY = ec.generate_private_key(ec.SECP384R1())


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
    return {**public, "kid": kid, "alg": alg, "use": "sig"}


JWKS = {"keys": [_jwk(EC_KEY, "ec-1", "ES384"), _jwk(RSA_KEY, "rsa-1", "RS384")]}


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[Stub]:
    with stub_server(lambda path, query: (200, JWKS) if path == "/jwks.json" else (404, {})) as stub:
        yield stub


@pytest.fixture(scope="module")
def guarded(app_settings: Settings, jwks_server: Stub) -> Iterator[TestClient]:
    issuers = {ISSUER: f"{jwks_server.base}/jwks.json"}
    settings = app_settings.model_copy(update={"cds_jwt_issuers": issuers, "api_key": "k" * 32})
    with TestClient(create_app(settings)) as client:
        yield client


def token(
    audience: str = f"{BASE}/cds-services",
    key: Any = EC_KEY,
    alg: str = "ES384",
    kid: str = "ec-1",
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned() -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": f"{BASE}/cds-services", "iat": now, "exp": now + 300, "jti": "x"}
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'ec-1'})}.{_b64(claims)}."


def test_a_valid_es384_token_passes_discovery_and_the_service(guarded: TestClient) -> None:
    assert guarded.get("/cds-services", headers=bearer(token())).status_code == 200
    call = guarded.post(SERVICE_URL, json=hook_call(chart("colorectal")), headers=bearer(token(f"{BASE}{SERVICE_URL}")))
    assert call.status_code == 200 and len(call.json()["cards"]) == 1


def test_a_valid_rs384_token_passes(guarded: TestClient) -> None:
    assert guarded.get("/cds-services", headers=bearer(token(key=RSA_KEY, alg="RS384", kid="rsa-1"))).status_code == 200


def test_the_token_may_name_its_jwk_set_only_as_configured(guarded: TestClient, jwks_server: Stub) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": f"{BASE}/cds-services", "iat": now, "exp": now + 300}
    for jku, status in ((f"{jwks_server.base}/jwks.json", 200), ("https://attacker.example/jwks.json", 401)):
        signed = jwt.encode({**claims, "jti": str(uuid.uuid4())}, EC_KEY, "ES384", headers={"kid": "ec-1", "jku": jku})
        assert guarded.get("/cds-services", headers=bearer(signed)).status_code == status


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "required"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "required"),
        (bearer("not-a-jwt"), "not a JWT"),
        (bearer(unsigned()), "'none' is not accepted"),
        (bearer(token(key=b"a shared secret of thirty-two bytes!", alg="HS256")), "'HS256' is not accepted"),
        (bearer(token(key=b"a shared secret of forty-eight bytes, for HS384!", alg="HS384")), "'HS384'"),
        (bearer(token(exp=int(time.time()) - 600)), "expired"),
        (bearer(token(audience="https://other.example.org/cds-services")), "`aud`"),
        (bearer(token(audience=f"{BASE}{SERVICE_URL}")), "`aud`"),  # a token for another endpoint
        (bearer(token(kid="unknown-kid")), "no key 'unknown-kid'"),
        (bearer(token(key=STRANGER_KEY)), "signature"),  # the right kid, signed with another key
        (bearer(token(key=RSA_KEY, alg="RS384", kid="ec-1")), "not a RS384 key"),
        (bearer(token(iss="https://untrusted.example.org/")), "not a trusted"),
        (bearer(token(jti=None)), "`jti`"),
        (bearer(token(iat=None)), "`iat`"),
    ],
)
def test_tokens_that_do_not_verify_are_refused(guarded: TestClient, headers: dict[str, str], why: str) -> None:
    response = guarded.get("/cds-services", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthorized"
    (item,) = response.json()["errors"]
    assert why in item["message"]


def test_a_token_is_accepted_once(guarded: TestClient) -> None:
    once = token()
    assert guarded.get("/cds-services", headers=bearer(once)).status_code == 200
    replay = guarded.get("/cds-services", headers=bearer(once))
    assert replay.status_code == 401 and "already used" in replay.text


def test_jwt_replaces_the_api_key_on_cds_services_only(guarded: TestClient) -> None:
    # The API key configured alongside does not open /cds-services, and the JWT does not open /v1/*.
    assert guarded.get("/cds-services", headers={"X-API-Key": "k" * 32}).status_code == 401
    assert guarded.get("/v1/about", headers=bearer(token())).status_code == 401
    assert guarded.get("/v1/about", headers={"X-API-Key": "k" * 32}).status_code == 200


def test_cors_preflight_needs_no_token(guarded: TestClient) -> None:
    preflight = {"Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST"}
    response = guarded.options(SERVICE_URL, headers=preflight)
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"


def test_jwt_is_off_by_default(client: TestClient) -> None:
    assert client.get("/cds-services").status_code == 200


def test_openapi_says_how_cds_services_may_be_guarded_whatever_the_configuration(
    guarded: TestClient, client: TestClient
) -> None:
    # A client generated against one server works against another: the contract does not change with the
    # configuration, so every credential a server may require is published, each optional.
    document = guarded.get("/openapi.json").json()
    assert document == client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["CdsClientJwt"]["scheme"] == "bearer"
    assert document["paths"]["/cds-services"]["get"]["security"] == [{}, {"ApiKey": []}, {"CdsClientJwt": []}]
    assert document["paths"]["/v1/about"]["get"]["security"] == [{}, {"ApiKey": []}]
