"""Headless Chromium for the page tests: Debian's chromium driven by Playwright for Python.

Playwright's own browser downloads do not work on these machines, so the tests launch the
system Chromium by path. Without it they skip with the reason, unless LIVERMETS_REQUIRE_BROWSER=1
(set by .ci/run), which turns a missing browser into a failure so CI always runs them."""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

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


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def launched_chromium() -> Iterator[Browser]:
    """The system Chromium under Playwright, for a module-scoped `browser` fixture to yield from."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, timeout=30_000)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and what it did: console errors, uncaught errors, requests to other hosts."""

    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    allowed_console_errors: list[re.Pattern[str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed_console_errors):
            self.console_errors.append(message.text)

    def on_request(self, request: Request) -> None:
        if not request.url.startswith((self.base_url + "/", "blob:", "data:")):
            self.foreign_requests.append(request.url)

    def assert_clean(self) -> None:
        assert self.page_errors == []
        assert self.console_errors == []
        assert self.foreign_requests == [], "the page must work offline: nothing from other hosts"


def watched_page(browser: Browser, base_url: str, timeout_ms: int) -> Iterator[Watched]:
    """A fresh desktop-sized context on the live server, watched, for a `watched` fixture to yield from."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    watch = Watched(page, base_url)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on("request", watch.on_request)
    try:
        yield watch
    finally:
        context.close()


def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol, not a <script>: the page's CSP rightly refuses inline code.
        page.evaluate("() => {" + AXE.read_text(encoding="utf-8") + "\n}")
    results = page.evaluate("async () => (await window.axe.run(document)).violations")
    return [
        f"{v['impact']} {v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in results
        if v["impact"] in ("serious", "critical")
    ]
