"""The page's files and how the app serves them, without a browser: the CSP, the allow-list of
assets, nothing external or inline, the house wording, and the Case schema the form is built from.
The behaviour in a real browser is in test_page_browser.py and test_page_mdt.py."""

import json
import re
import tomllib
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.routes.page import ASSETS, WEB_DIR
from app.settings import PROJECT_ROOT, Settings
from schemas.case import Case

WEB_FILES = sorted(p.name for p in WEB_DIR.iterdir() if p.is_file())
FORBIDDEN = re.compile(r"\brecommend|\bindicated\b|\byou should\b", re.IGNORECASE)


class InlineCode(HTMLParser):
    """Collects inline code or styles: script without src, <style>, style= and on...= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        self.inline.extend(f"{tag} {name}=" for name in attributes if name == "style" or name.startswith("on"))


def parsed_index() -> InlineCode:
    parser = InlineCode()
    parser.feed((WEB_DIR / "index.html").read_text(encoding="utf-8"))
    return parser


def test_the_page_is_served_at_the_root_with_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy and "http" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<form id="case-form"' in response.text


@pytest.mark.parametrize(("name", "media_type"), sorted(ASSETS.items()))
def test_each_asset_is_served_with_its_type(client: TestClient, name: str, media_type: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == (WEB_DIR / name).read_bytes()


@pytest.mark.parametrize("path", ["/static/index.html", "/static/nothing.js", "/static/..%2Fmain.py", "/static/"])
def test_nothing_outside_the_asset_list_is_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_every_file_in_app_web_is_the_page_or_a_listed_asset() -> None:
    from app.routes import exercise_page  # the exercise page (/exercises) keeps its own allow-list

    assert set(WEB_FILES) == {"index.html", *ASSETS, "exercises.html", *exercise_page.ASSETS}


@pytest.mark.parametrize("name", WEB_FILES)
def test_the_page_loads_nothing_from_elsewhere(name: str) -> None:
    text = (WEB_DIR / name).read_text(encoding="utf-8")
    # The SVG namespace is an identifier, not something fetched.
    text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE) == []
    assert "@import" not in text and "@font-face" not in text


def test_no_inline_script_style_or_event_handler_in_the_html() -> None:
    assert parsed_index().inline == []


@pytest.mark.parametrize("name", WEB_FILES)
def test_page_wording_never_prescribes(name: str) -> None:
    text = (WEB_DIR / name).read_text(encoding="utf-8")
    assert FORBIDDEN.findall(text) == []


def test_the_case_schema_the_form_is_built_from_is_the_published_one(client: TestClient) -> None:
    # The page builds its form from this (tests/test_page_mdt.py checks every field is on it); it is
    # the exported schema with the properties in the model's order, which is the form's order.
    response = client.get("/schemas/case.schema.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    published = json.loads((PROJECT_ROOT / "schemas" / "json" / "case.schema.json").read_text(encoding="utf-8"))
    assert response.json() == published
    assert list(response.json()["properties"]) == list(Case.model_fields)


def test_the_page_its_modules_and_the_schema_stay_open_when_an_api_key_is_set(app_settings: Settings) -> None:
    with TestClient(create_app(app_settings.model_copy(update={"api_key": "k" * 24}))) as keyed:
        for path in ["/", "/schemas/case.schema.json", *(f"/static/{name}" for name in ASSETS)]:
            assert keyed.get(path).status_code == 200, path
        assert keyed.post("/v1/explain", json={}).status_code == 401


def test_the_script_modules_import_only_listed_assets() -> None:
    for name in (n for n in ASSETS if n.endswith(".js")):
        text = (WEB_DIR / name).read_text(encoding="utf-8")
        for imported in re.findall(r'from "\./([\w.]+)"', text):
            assert imported in ASSETS, f"{name} imports {imported}, which the app does not serve"


def test_the_installed_package_includes_the_page() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    app_dir = PROJECT_ROOT / "app"
    packaged = {p.relative_to(app_dir / "web").as_posix() for pattern in patterns for p in app_dir.glob(pattern)}
    assert set(WEB_FILES) <= packaged
    assert "COPY app ./app" in (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
