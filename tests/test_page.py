"""The page's files and how the app serves them, without a browser: the CSP, the allow-list of
assets, nothing external or inline, the house wording, and a form that covers the whole request
contract. The behaviour in a real browser is in test_page_browser.py."""

import re
import tomllib
from html.parser import HTMLParser
from typing import Literal, get_args, get_origin

import pytest
from annotated_types import Ge, Le
from fastapi.testclient import TestClient

from app.routes.page import ASSETS, WEB_DIR
from app.settings import PROJECT_ROOT
from schemas.case import NUMERIC_FIELDS, OPTIONAL_FIELDS, Case

WEB_FILES = sorted(p.name for p in WEB_DIR.iterdir() if p.is_file())
FORBIDDEN = re.compile(r"\brecommend|\bindicated\b|\byou should\b", re.IGNORECASE)


class FormControls(HTMLParser):
    """Collects (name, value) of every form control and option, and inline code or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: set[tuple[str, str]] = set()
        self.number_bounds: dict[str, tuple[str | None, str | None]] = {}
        self.inline: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "select":
            self._select = attributes.get("name")
        elif tag == "option" and self._select:
            self.controls.add((self._select, attributes.get("value") or ""))
        elif tag == "input" and attributes.get("name"):
            self.controls.add((attributes["name"] or "", attributes.get("value") or ""))
            if attributes.get("type") == "number":
                self.number_bounds[attributes["name"] or ""] = (attributes.get("min"), attributes.get("max"))
        if tag == "script" and not attributes.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        self.inline.extend(f"{tag} {name}=" for name in attributes if name == "style" or name.startswith("on"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def parsed_index() -> FormControls:
    parser = FormControls()
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


def choices(annotation: object) -> set[str]:
    """The values a field allows, as the form writes them: Literal values (also inside
    list[...] and ... | None) and true/false for booleans."""
    if get_origin(annotation) is Literal:
        return {str(value) for value in get_args(annotation)}
    if annotation is bool:
        return {"true", "false"}
    return set().union(*(choices(arg) for arg in get_args(annotation)))


def test_the_form_offers_every_input_and_every_value_of_the_request_contract() -> None:
    controls = parsed_index().controls
    assert set(Case.model_fields) <= {name for name, _ in controls}
    for name, field in Case.model_fields.items():
        offered = {value for control, value in controls if control == name}
        assert choices(field.annotation) <= offered, f"{name}: {choices(field.annotation) - offered} missing"
    assert {value for control, value in controls if control == "performance_status"} == {"0", "1", "2", "3", "4"}


def test_number_fields_carry_the_bounds_of_the_request_contract() -> None:
    bounds = parsed_index().number_bounds
    assert set(bounds) == {"lesion_count", "largest_lesion_cm"}
    for name, (low, high) in bounds.items():
        metadata = Case.model_fields[name].metadata
        minimum = next(m.ge for m in metadata if isinstance(m, Ge))
        maximum = next(m.le for m in metadata if isinstance(m, Le))
        assert (low, high) == (str(minimum), str(maximum)), name


def test_every_optional_input_can_stay_unknown() -> None:
    controls = parsed_index().controls
    for name in OPTIONAL_FIELDS:
        if name == "prior_treatments":
            assert ("prior_treatments_known", "") in controls
        else:
            assert (name, "") in controls, f"{name} has no Unknown choice"


def script_names(pattern: str) -> list[str]:
    """The quoted names in one constant of page.js, e.g. `const FIELDS = [...]`."""
    found = re.search(pattern, (WEB_DIR / "page.js").read_text(encoding="utf-8"), re.DOTALL)
    assert found, f"page.js has no {pattern!r}"
    return re.findall(r'"(\w+)"', found.group(1))


def test_the_script_reads_sends_and_links_every_input_with_its_type() -> None:
    # FIELDS drives the request, the link and the case list; each type is read from the model.
    fields = script_names(r"const FIELDS = \[(.*?)\];")
    assert sorted(fields) == sorted(Case.model_fields)
    assert len(fields) == len(set(fields))
    booleans = {name for name, f in Case.model_fields.items() if choices(f.annotation) == {"true", "false"}}
    assert set(script_names(r"const BOOLEAN_FIELDS = new Set\(\[(.*?)\]\)")) == booleans
    assert set(script_names(r"const NUMBER_FIELDS = new Set\(\[(.*?)\]\)")) == NUMERIC_FIELDS


def test_every_optional_input_has_words_for_what_a_status_depends_on() -> None:
    # "Depends on the surgeon's assessment: ...": only an unknown (optional) input can appear there.
    labels = re.search(
        r"const DEPENDS_LABELS = \{(.*?)\};", (WEB_DIR / "page.js").read_text(encoding="utf-8"), re.DOTALL
    )
    assert labels
    assert set(re.findall(r"^\s*(\w+):", labels.group(1), re.MULTILINE)) == set(OPTIONAL_FIELDS)


def test_the_installed_package_includes_the_page() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    app_dir = PROJECT_ROOT / "app"
    packaged = {p.relative_to(app_dir / "web").as_posix() for pattern in patterns for p in app_dir.glob(pattern)}
    assert set(WEB_FILES) <= packaged
    assert "COPY app ./app" in (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
