"""Verification of the JWT a CDS client signs for every call (CDS Hooks 2.0, "Trusting CDS Clients").

Trust is configured, never learnt from the token: each allow-listed issuer (`iss`) comes with the URL of its
JWK Set. A token's `jku` header, when present, must be that URL; without it the configured URL is used (the
specification's out-of-band exchange). Only ES384 and RS384 are accepted: `none` and every symmetric (HMAC)
algorithm are refused before any key is looked at. `aud` must be the URL of the endpoint called; `exp`, `iat`
and `jti` are required, and a `jti` is accepted once while its token is valid (replay protection, per process)."""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import jwt

ALGORITHMS = ("ES384", "RS384")
KEY_TYPES = {"ES384": "EC", "RS384": "RSA"}
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
LEEWAY_S = 30  # clock difference tolerated between the EHR and this service
JWKS_TTL_S = 300.0  # a JWK Set is fetched again after this long (key rotation)
JWKS_REFETCH_S = 30.0  # an unknown `kid` triggers at most one refetch per this interval
JWKS_MAX_BYTES = 256 * 1024
JWKS_TIMEOUT_S = 5.0
MAX_REMEMBERED_JTI = 100_000

FetchJson = Callable[[str], Awaitable[Any]]


class TokenRefused(Exception):
    """The call is not authenticated; the message says why (sent in the 401 answer)."""


async def fetch_jwks(url: str) -> Any:
    """The JWK Set at `url` (no redirects followed, bounded in time and size)."""
    async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_S, follow_redirects=False) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
    if response.status_code != 200 or len(response.content) > JWKS_MAX_BYTES:
        raise TokenRefused(f"the issuer's JWK Set could not be read (HTTP {response.status_code})")
    return response.json()


class JwksCache:
    """JWK Sets by URL, kept for JWKS_TTL_S; an unknown `kid` refetches (rotation), at most every JWKS_REFETCH_S."""

    def __init__(self, fetch: FetchJson = fetch_jwks, clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch = fetch
        self.clock = clock
        self._sets: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}

    async def key(self, url: str, kid: str) -> dict[str, Any] | None:
        now = self.clock()
        fetched_at, keys = self._sets.get(url, (float("-inf"), {}))
        stale = now - fetched_at > JWKS_TTL_S
        if stale or (kid not in keys and now - fetched_at > JWKS_REFETCH_S):
            keys = await self._load(url)
            self._sets[url] = (now, keys)
        return keys.get(kid)

    async def _load(self, url: str) -> dict[str, dict[str, Any]]:
        try:
            document = await self.fetch(url)
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenRefused(f"the issuer's JWK Set could not be read ({type(exc).__name__})") from None
        listed = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            raise TokenRefused("the issuer's JWK Set has no `keys` list")
        return {k["kid"]: k for k in listed if isinstance(k, dict) and isinstance(k.get("kid"), str)}


class SeenTokens:
    """The `jti` of every token accepted, until the token expires: a replayed token is refused."""

    def __init__(self, limit: int = MAX_REMEMBERED_JTI) -> None:
        self.limit = limit
        self._expiry: OrderedDict[tuple[str, str], float] = OrderedDict()

    def first_use(self, issuer: str, jti: str, expires: float, now: float) -> bool:
        while self._expiry and (len(self._expiry) >= self.limit or next(iter(self._expiry.values())) < now):
            self._expiry.popitem(last=False)  # oldest first: entries are added in arrival order
        key = (issuer, jti)
        if key in self._expiry:
            return False
        self._expiry[key] = expires + LEEWAY_S
        return True


class JwtVerifier:
    def __init__(self, issuers: Mapping[str, str], keys: JwksCache | None = None) -> None:
        self.issuers = dict(issuers)
        self.keys = keys or JwksCache()
        self.seen = SeenTokens()

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The token's claims, or TokenRefused. `authorization`: the Authorization header as sent."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefused("a JWT signed by a trusted CDS client is required: Authorization: Bearer <JWT>")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRefused("the bearer token is not a JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRefused(f"JWT algorithm {alg!r} is not accepted; use one of {', '.join(ALGORITHMS)}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("the JWT header has no `kid`")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self.issuers:
            raise TokenRefused("the JWT issuer (`iss`) is not a trusted CDS client")
        jwks_url = self.issuers[issuer]
        if "jku" in header and header["jku"] != jwks_url:
            raise TokenRefused("the JWT's `jku` is not the JWK Set URL configured for its issuer")
        claims = self._checked(token, alg, await self._key(jwks_url, kid, alg), audience, issuer)
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise TokenRefused("the JWT's `jti` must be a non-empty string")
        if not self.seen.first_use(issuer, jti, float(claims["exp"]), time.time()):
            raise TokenRefused("this JWT was already used (`jti` seen before)")
        return claims

    async def _key(self, jwks_url: str, kid: str, alg: str) -> Any:
        jwk = await self.keys.key(jwks_url, kid)
        if jwk is None:
            raise TokenRefused(f"no key {kid!r} in the issuer's JWK Set")
        if jwk.get("kty") != KEY_TYPES[alg] or jwk.get("alg", alg) != alg:
            raise TokenRefused(f"key {kid!r} is not a {alg} key")
        try:
            return jwt.PyJWK(jwk, algorithm=alg).key
        except jwt.PyJWTError:
            raise TokenRefused(f"key {kid!r} of the issuer's JWK Set cannot be read") from None

    @staticmethod
    def _checked(token: str, alg: str, key: Any, audience: str, issuer: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_S,
                options={"require": REQUIRED_CLAIMS, "verify_iat": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the JWT has expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused(f"the JWT's `aud` is not this endpoint ({audience})") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused(f"the JWT has no `{exc.claim}` claim") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("the JWT's signature does not verify with the issuer's key") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"the JWT is not valid ({exc})") from None
        return claims
