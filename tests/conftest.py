import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.explain import Explainer
from app.engine import RulesEngine
from app.main import create_app
from app.rulebook import Rulebook, load_rulebook
from app.settings import PROJECT_ROOT, Settings

RULES_DIR = PROJECT_ROOT / "rules"


def seeds_dir() -> Path:
    """The five source documents; the quote checks cannot run without them, so say so loudly."""
    path = Path(os.environ.get("LIVERMETS_SEEDS_DIR", str(PROJECT_ROOT.parent / "shared" / "seeds")))
    if not path.is_dir():
        pytest.fail(
            f"source documents not found at {path}: clone the project beside ../shared, "
            "or set LIVERMETS_SEEDS_DIR to the folder holding the five seed documents",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def seeds() -> Path:
    return seeds_dir()


@cache
def loaded_rulebook() -> Rulebook:
    """The project's rulebook, loaded once on first use (never at collection time)."""
    return load_rulebook(RULES_DIR, seeds_dir())


def expected_stamp() -> dict[str, Any]:
    """The rulebook stamp every answer carries, read from the rulebook (tests pin no version)."""
    book = loaded_rulebook()
    return {"version": book.meta.version, "date": book.meta.date.isoformat(), "digest": book.digest}


@pytest.fixture(scope="session")
def book(seeds: Path) -> Rulebook:
    return loaded_rulebook()


@pytest.fixture(scope="session")
def engine(book: Rulebook) -> RulesEngine:
    return RulesEngine(book)


@pytest.fixture(scope="session")
def explainer(book: Rulebook) -> Explainer:
    return Explainer(book)


@pytest.fixture(scope="session")
def app_settings(seeds: Path) -> Settings:
    return Settings(rules_dir=RULES_DIR, seeds_dir=seeds)


@pytest.fixture(scope="session")
def client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings)) as test_client:
        yield test_client


BASE_CASE = {
    "primary_site": "colorectal",
    "lesion_count": 2,
    "largest_lesion_cm": 2.5,
    "extrahepatic_disease": "none",
    "liver_function": "normal",
    "performance_status": 0,
}


@pytest.fixture(scope="session")
def live_server(app_settings: Settings) -> Iterator[str]:
    """Base URL of a real uvicorn server on 127.0.0.1 serving the app (started once per session)."""
    from tests.live_server import serve

    with serve(create_app(app_settings)) as base_url:
        yield base_url
