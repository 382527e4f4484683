"""Configuration: every LIVERMETS_* environment variable, typed and validated once when the app is
created (`Settings.from_env()`). A bad value stops start-up with a message naming the variable.

`Settings(...)` built in code (tests, the benchmark) reads nothing from the environment: only
`from_env()` does, so a variable left set in a shell cannot change what a test sees."""

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Beside the clone; used only when it exists (Settings.quote_documents).
DEFAULT_SEEDS_DIR = PROJECT_ROOT.parent / "shared" / "seeds"
ENV_PREFIX = "LIVERMETS_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _positive_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PydanticCustomError("positive_int", "must be a positive whole number")
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise PydanticCustomError("flag", "must be true or false")
    return value


def _log_level(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in LOG_LEVELS:
        return value.upper()
    raise PydanticCustomError("log_level", "must be one of " + ", ".join(LOG_LEVELS))


def _origins(value: Any) -> Any:
    """A comma-separated allow-list; empty or unset means no cross-origin access at all."""
    if isinstance(value, str):
        return tuple(o.strip() for o in value.split(",") if o.strip())
    return value


def _empty_is_none(value: Any) -> Any:
    return value or None


def _absolute_url(value: Any) -> Any:
    """An absolute http(s) URL without a trailing slash (None when empty): it prefixes the service's own paths."""
    if not value:
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise PydanticCustomError("absolute_url", "must be an absolute http(s) URL")
    return value.rstrip("/")


def _issuers(value: Any) -> Any:
    """A JSON object of allow-listed JWT issuers, each with the URL of its JWK Set; empty means JWT is off."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise PydanticCustomError("issuers", 'must be a JSON object {"issuer": "JWKS URL"}') from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and _absolute_url(v) for k, v in value.items()
    ):
        raise PydanticCustomError("issuers", 'must be a JSON object {"issuer": "absolute JWKS URL"}')
    return value


PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
Flag = Annotated[bool, BeforeValidator(_flag)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    rules_dir: Path = PROJECT_ROOT / "rules"
    # Teaching vignettes (app/exercises/); a missing folder means no exercises, an invalid file stops start-up.
    exercises_dir: Path = PROJECT_ROOT / "exercises" / "vignettes"
    # false: serve quotes nobody checked, when the documents are absent and no check is recorded (app/quotes.py).
    verify_quotes: Flag = True
    # None when verify_quotes is false (declared after it so its validator can see it). Given (in code or
    # LIVERMETS_SEEDS_DIR), it must exist; the default is used only when it exists (see quote_documents).
    seeds_dir: Path | None = Field(default_factory=lambda: DEFAULT_SEEDS_DIR)
    # Largest rule file, and all rule files together, read at start-up (checked before reading).
    rules_max_file_bytes: PositiveInt = 1024 * 1024
    rules_max_total_bytes: PositiveInt = 10 * 1024 * 1024
    max_body_bytes: PositiveInt = 64 * 1024
    # Batch endpoint: cases per request, and its own (larger) body limit.
    max_batch_items: PositiveInt = 1000
    max_batch_body_bytes: PositiveInt = 2 * 1024 * 1024
    # Browser origins allowed to call the API; empty means CORS is off.
    cors_allow_origins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_origins)] = ()
    # When set, /v1/* requires it in the X-API-Key header. Kept out of repr so it is never logged.
    api_key: Annotated[str | None, BeforeValidator(_empty_is_none)] = Field(default=None, repr=False)
    access_log: Flag = True
    # gzip for answers of 1 KiB and more when the client accepts it (app/compression.py); false where a
    # proxy in front compresses, or where the server's CPU matters more than the bytes on the wire.
    gzip: Flag = True
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(_log_level)] = "INFO"
    # Connection limits of `python -m app.serve` (app/connections.py): seconds to send a complete
    # request head, idle seconds of a keep-alive connection, open connections per worker.
    header_timeout_s: float = 10.0
    keep_alive_s: float = 5.0
    max_connections: PositiveInt = 512
    # Heavy work per worker process (app/limits.py): what-if answers computed at once (in worker
    # threads) and batches streamed at once; four times as many wait for a slot, beyond that 503 with
    # Retry-After. By default the number of cores (at least 2), so ordinary load is served.
    max_concurrent_what_if: PositiveInt = Field(default_factory=lambda: max(2, os.cpu_count() or 1))
    max_concurrent_batches: PositiveInt = Field(default_factory=lambda: max(2, os.cpu_count() or 1))
    # CDS Hooks (app/cds/, README "EHR integration"). The base URL the service is reached at (absolute URLs in
    # cards, JWT `aud`); unset: the request's own. Browser origins allowed on /cds-services ("*": any).
    public_base_url: Annotated[str | None, BeforeValidator(_absolute_url)] = None
    cds_cors_allow_origins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_origins)] = ("*",)
    # Issuer -> JWK Set URL of the CDS clients trusted; when set, /cds-services requires their signed JWT.
    cds_jwt_issuers: Annotated[dict[str, str], NoDecode, BeforeValidator(_issuers)] = Field(default_factory=dict)
    # FHIR servers the service may fetch from with a client's token (URL prefixes); empty: any.
    cds_fhir_servers: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_origins)] = ()
    cds_max_body_bytes: PositiveInt = 1024 * 1024

    @field_validator("header_timeout_s", "keep_alive_s", mode="before")
    @classmethod
    def _positive_seconds(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
            raise PydanticCustomError("positive_seconds", "must be a positive number of seconds")
        return float(value)

    @field_validator("seeds_dir")
    @classmethod
    def _unverified(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if info.data.get("verify_quotes") is False else value

    def quote_documents(self) -> Path | None:
        """The folder to check every quote against at start-up: the one given (a missing one stops
        start-up), else the default ../shared/seeds when it exists, else None (no documents here: the
        image). Without documents start-up relies on the recorded check (app/quotes.py)."""
        if self.seeds_dir is None:
            return None
        if "seeds_dir" in self.model_fields_set or self.seeds_dir.is_dir():
            return self.seeds_dir
        return None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword arguments only: the environment is read by from_env(), nowhere else.
        return (init_settings,)

    @classmethod
    def from_env(cls) -> "Settings":
        """The settings from the LIVERMETS_* variables (unset ones keep their defaults)."""
        try:
            return cls(**EnvSettingsSource(cls)())
        except ValidationError as exc:
            problems = (f"{ENV_PREFIX}{str(e['loc'][0]).upper()} {e['msg']}, got {e['input']!r}" for e in exc.errors())
            raise ValueError("; ".join(problems)) from None
