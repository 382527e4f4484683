"""Configuration, read from environment variables once when the app is created."""

import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Settings:
    rules_dir: Path = PROJECT_ROOT / "rules"
    # None skips the verbatim-quote check (only for images that do not ship the documents).
    seeds_dir: Path | None = PROJECT_ROOT.parent / "shared" / "seeds"
    max_body_bytes: int = 64 * 1024

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
        )
