import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from app.core.explain import Explainer
from app.engine import RulesEngine
from app.main import create_app
from app.rulebook import Rulebook, load_rulebook
from app.settings import PROJECT_ROOT, Settings

RULES_DIR = PROJECT_ROOT / "rules"

# Hypothesis: in CI (CI=true) every run generates the same cases (derandomised, no example
# database) and a failure prints the blob that reproduces it (@reproduce_failure); elsewhere cases
# are random and failures are remembered in .hypothesis/ and replayed first. HYPOTHESIS_PROFILE
# picks one explicitly. Tests that set their own max_examples or deadline keep them.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tiers (markers registered in pyproject.toml; `make check` leaves out slow, server and
    browser): every test that uses a real server process is `server`; the engine-vs-oracle
    agreement on thousands of generated cases is `slow` (marked here so that file keeps only its
    test)."""
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.server)
        if item.path.name == "test_oracle_agreement.py":
            item.add_marker(pytest.mark.slow)


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
    """Base URL of a real uvicorn server on 127.0.0.1 serving the app, in its own process (started
    once per session, ready when yielded, terminated at the end). Tests using it are marked `server`."""
    from tests.live_server import serve_process

    with serve_process(app_settings) as base_url:
        yield base_url
