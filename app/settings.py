"""Configuration, read from environment variables once when the app is created."""

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def _origins(name: str) -> tuple[str, ...]:
    """A comma-separated allow-list; empty or unset means no cross-origin access at all."""
    return tuple(o.strip() for o in os.environ.get(name, "").split(",") if o.strip())


@dataclass(frozen=True)
class Settings:
    rules_dir: Path = PROJECT_ROOT / "rules"
    # None skips the verbatim-quote check (only for images that do not ship the documents).
    seeds_dir: Path | None = PROJECT_ROOT.parent / "shared" / "seeds"
    max_body_bytes: int = 64 * 1024
    # Batch endpoint: cases per request, and its own (larger) body limit.
    max_batch_items: int = 1000
    max_batch_body_bytes: int = 2 * 1024 * 1024
    # Browser origins allowed to call the API; empty means CORS is off.
    cors_allow_origins: tuple[str, ...] = ()
    # When set, /v1/* requires it in the X-API-Key header. Kept out of repr so it is never logged.
    api_key: str | None = field(default=None, repr=False)
    access_log: bool = True
    log_level: str = "INFO"

    @classmethod
    def from_env(cls) -> "Settings":
        defaults = cls()
        seeds: Path | None = Path(os.environ.get("LIVERMETS_SEEDS_DIR", str(defaults.seeds_dir)))
        if not _flag("LIVERMETS_VERIFY_QUOTES", True):
            seeds = None
        return cls(
            rules_dir=Path(os.environ.get("LIVERMETS_RULES_DIR", str(defaults.rules_dir))),
            seeds_dir=seeds,
            max_body_bytes=int(os.environ.get("LIVERMETS_MAX_BODY_BYTES", str(defaults.max_body_bytes))),
            max_batch_items=_positive_int("LIVERMETS_MAX_BATCH_ITEMS", defaults.max_batch_items),
            max_batch_body_bytes=_positive_int("LIVERMETS_MAX_BATCH_BODY_BYTES", defaults.max_batch_body_bytes),
            cors_allow_origins=_origins("LIVERMETS_CORS_ALLOW_ORIGINS"),
            api_key=os.environ.get("LIVERMETS_API_KEY") or None,
            access_log=_flag("LIVERMETS_ACCESS_LOG", defaults.access_log),
            log_level=os.environ.get("LIVERMETS_LOG_LEVEL", defaults.log_level).upper(),
        )
