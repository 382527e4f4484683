"""Headless Chromium for the page tests: Debian's chromium driven by Playwright for Python.

Playwright's own browser downloads do not work on these machines, so the tests launch the
system Chromium by path. Without it they skip with the reason, unless LIVERMETS_REQUIRE_BROWSER=1
(set by .ci/run), which turns a missing browser into a failure so CI always runs them."""

import os
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("LIVERMETS_CHROMIUM", "/usr/bin/chromium"))

# As root, Chromium needs --no-sandbox; the networking flags stop its background calls to
# Google's hosts, which this machine's closed network refuses (and which we do not want anyway).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def chromium_path() -> str:
    """The Chromium executable, or skip (fail, when a browser is required) with the reason."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    reason = (
        f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium) "
        "or point LIVERMETS_CHROMIUM at a Chromium binary to run the browser tests"
    )
    if os.environ.get("LIVERMETS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; LIVERMETS_REQUIRE_BROWSER=1 makes a missing browser a failure", pytrace=False)
    pytest.skip(reason)


def artifact(name: str) -> Path:
    """A path under test-artifacts/ (gitignored) for screenshots and files the tests save."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
