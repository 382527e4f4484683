"""/docs (Swagger UI) and /redoc (ReDoc) with no internet: in headless Chromium against the real
server, every request to a host other than the server's loopback address is aborted and recorded.
The pages must render the API from the app's own files, ask nothing of any other host, and break
no rule of their Content-Security-Policy."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect

from app.routes.docs import ASSETS
from tests.browser import launched_chromium

pytestmark = pytest.mark.browser  # and `server`, through the live_server fixture

TIMEOUT_MS = 15_000
LOOPBACK = "127.0.0.1"
REDOC_LOGO_REFUSED = re.compile(r"^Loading the image 'https://cdn\.redoc\.ly/redoc/logo-mini\.svg' violates ")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


@dataclass
class Offline:
    """A page whose context can reach only the loopback server, and what it tried to reach."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"blob", "data"} or urlsplit(url).hostname == LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def on_console(self, message: ConsoleMessage) -> None:
        # A CSP violation is reported as a console error, as is a failed load.
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def offline(browser: Browser, live_server: str) -> Iterator[Offline]:
    context: BrowserContext = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Offline(page)
    context.route("**/*", watch.route)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    try:
        yield watch
    finally:
        context.close()


def _operation_paths(live_server: str) -> list[str]:
    document = httpx.get(f"{live_server}/openapi.json").json()
    return sorted(document["paths"])


def test_swagger_ui_lists_every_operation_without_the_internet(offline: Offline, live_server: str) -> None:
    page = offline.page
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=TIMEOUT_MS)
    shown = {text.strip() for text in page.locator(".opblock-summary-path").all_inner_texts()}
    shown = {text.replace("\u200b", "") for text in shown}  # Swagger UI breaks long paths with zero-width spaces
    assert shown == set(_operation_paths(live_server))
    expect(page.locator(".info .title")).to_contain_text("livermets-explainer")
    assert offline.blocked == [], "the docs must not reach for any other host"
    assert offline.errors == []


def test_redoc_renders_the_api_without_the_internet(offline: Offline, live_server: str) -> None:
    page = offline.page
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("livermets-explainer", timeout=TIMEOUT_MS)
    # ReDoc lists each operation in its menu by summary; the explain operation is one of them.
    expect(page.locator("[role=menuitem]").first).to_be_visible()
    summaries = page.locator("[role=menuitem]").all_inner_texts()
    assert any("Explain many cases at once" in text for text in summaries)
    assert offline.blocked == [], "the docs must not reach for any other host"
    # ReDoc's menu always shows a Redocly logo from its CDN (hard-coded in the bundle, hidden when it
    # fails to load): the page's policy stops it in the browser, before any request is made.
    assert [e for e in offline.errors if not REDOC_LOGO_REFUSED.search(e)] == []


def test_the_docs_assets_are_served_by_the_app_with_their_licences(live_server: str) -> None:
    """Every asset the docs pages name is served, and each vendored file sits beside its licence."""
    for name, (path, media_type, _) in ASSETS.items():
        response = httpx.get(f"{live_server}/docs/assets/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)
        if "vendor" in path.parts:
            assert (path.parent / "LICENSE").is_file()
    assert httpx.get(f"{live_server}/docs/assets/LICENSE").status_code == 404
