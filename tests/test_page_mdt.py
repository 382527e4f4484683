"""The page as an MDT sheet, in headless Chromium against the real server: the result takes the
view and focus, the overview of every category, the printed A4 sheet (read back with pypdf), the
phone layout, axe-core's audit (vendored, injected without network), labels instead of ids, who the
page is for, the API key, the compare view, the form built from the Case schema, and ?case= links."""

import io
import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from pypdf import PdfReader

from app.settings import Settings
from schemas.case import Case
from tests.browser import Watched, artifact, axe_violations
from tests.live_server import serve_process
from tests.test_page_browser import COLORECTAL, COLORECTAL_CASE, browser, explain, fill_case, form, watched

__all__ = ["browser", "watched"]  # the fixtures, imported for this module's tests

pytestmark = pytest.mark.browser


# Every optional input given (the README's example case plus one value for each optional field).
FULL_CASE: dict[str, Any] = {
    **COLORECTAL_CASE,
    "symptomatic": False,
    "lobar_distribution": "bilobar",
    "primary_tumour_status": "in_place",
    "prior_treatments": ["chemotherapy"],
    "kras_status": "wild_type",
    "hormone_receptor_status": "negative",
    "declines_surgery": False,
    "technical_resectability": "potentially_resectable",
    "systemic_disease_controlled": True,
    "ascites": False,
    "other_treatments_exhausted": False,
}
LUNG_CASE = {**COLORECTAL_CASE, "primary_site": "lung"}
SNAKE_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def case_link(case: dict[str, Any]) -> str:
    return "/?case=" + quote(json.dumps(case))


def open_result(page: Page, case: dict[str, Any]) -> None:
    page.goto(case_link(case))
    expect(page.locator("#status")).to_contain_text("Result shown")


def plain(text: str) -> str:
    """Text as compared with a PDF's: ligatures (ﬀ) undone, curly quotes straight, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))
    return " ".join(text.split())


def pdf_pages(page: Page, name: str) -> list[str]:
    """The page printed as Chromium prints it (A4, the page's own @page rules), as text per page."""
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    artifact(name).write_bytes(pdf)
    return [plain(p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages]


# ---- 1 and 2: the result takes the view; the overview comes first ---------------------------------


@pytest.mark.parametrize("width", [1280, 390])
def test_explain_moves_focus_and_view_to_the_top_of_the_result(browser: Browser, live_server: str, width: int) -> None:
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto("/")
        fill_case(page, COLORECTAL)
        form(page).get_by_role("button", name="Explain", exact=True).scroll_into_view_if_needed()
        explain(page)
        assert page.evaluate("document.activeElement.id") == "results"
        top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
        assert -2 <= top < 50, f"the result's top is at {top}px of the viewport"
        # The live region says what arrived.
        expect(page.locator("#results [role=status]")).to_contain_text("Result shown")
    finally:
        context.close()


def test_the_result_starts_with_an_overview_of_every_category(watched: Watched, live_server: str) -> None:
    page = watched.page
    open_result(page, FULL_CASE)
    body = httpx.post(f"{live_server}/v1/explain", json=FULL_CASE).json()
    rows = page.locator(".overview-table tbody tr")
    expected = [i["category"] for b in ("case", "general") for i in body["discussed"] if i["basis"] == b]
    expected += [i["category"] for i in body["not_discussed"]]
    assert rows.evaluate_all("all => all.map((r) => r.dataset.category)") == expected
    for item, status in [(i, "commonly discussed") for i in body["discussed"]] + [
        (i, "not typically discussed") for i in body["not_discussed"]
    ]:
        row = page.locator(f".overview-table tr[data-category='{item['category']}']")
        expect(row.locator("th")).to_have_text(item["label"])
        expect(row.locator("td").nth(0)).to_have_text(status)
        expect(row.locator("td.basis")).to_have_text("in general" if item.get("basis") == "general" else "this case")
        expect(row.locator("td.reason")).not_to_be_empty()
        for dependency in item["depends_on"]:
            expect(row.locator(f"[data-depends-on='{dependency['field']}']")).to_contain_text(" if ")
    overview = page.locator("section.overview").bounding_box()
    first_card = page.locator("#sheet .category").first.bounding_box()
    assert overview and first_card and overview["y"] < first_card["y"]
    watched.assert_clean()


# ---- 3: the printed sheet -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "case"), [("example", COLORECTAL_CASE), ("every-input", FULL_CASE)])
def test_the_printed_sheet_page_one_alone_summary_by_page_two_at_most_six_pages(
    watched: Watched, live_server: str, name: str, case: dict[str, Any]
) -> None:
    page = watched.page
    open_result(page, case)
    body = httpx.post(f"{live_server}/v1/explain", json=case).json()
    stamp = body["rulebook"]
    pages = pdf_pages(page, f"mdt-sheet-{name}.pdf")
    assert len(pages) <= 6, f"{len(pages)} A4 pages"

    first = pages[0]
    assert "Disclaimer." in first and plain(body["disclaimer"])[:60] in first
    assert f"rulebook version {stamp['version']} of {stamp['date']}" in first
    assert stamp["digest"].replace(" ", "") in first.replace(" ", "")
    assert re.search(r"Prepared \d{4}-\d{2}-\d{2}", first)
    assert "The case" in first and "Overview" in first
    assert "Commonly discussed (" not in first, "page 1 stands alone: the detail starts on a page of its own"
    assert "Primary site: colorectal" in first
    # The summary: every category with its status and one-line reason, by page 2.
    summary = " ".join(pages[:2])
    for item in body["discussed"] + body["not_discussed"]:
        assert plain(item["label"]) in summary
    for reason in page.locator(".overview-table td.reason").all_inner_texts():
        assert " ".join(plain(reason).split()[:4]) in summary
    assert summary.count("not typically discussed") >= len(body["not_discussed"])
    # The detail: each category's reasons with their quotes, folded parts open, no controls.
    whole = " ".join(pages)
    for item in body["discussed"] + body["not_discussed"]:
        for statement in item.get("rationale", []) + item.get("reasons", []):
            for citation in statement["citations"]:
                assert plain(citation["quote"])[:40] in whole
        for variant in item.get("variants", []):
            assert plain(variant["label"]) in whole, "folded parts print open"
    for control in ("Print MDT sheet", "Download Markdown", "Explain", "Pin this result", "Variants ("):
        assert control not in whole
    # Every page: the disclaimer line, the rulebook version, the page number.
    for number, text in enumerate(pages, start=1):
        assert "not medical advice" in text
        assert f"Rulebook {stamp['version']}" in text
        assert f"Page {number} of {len(pages)}" in text
    watched.assert_clean()


# ---- 4: phone, axe-core --------------------------------------------------------------------------


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_on_a_phone_the_page_never_scrolls_sideways_and_wide_tables_scroll_in_their_own_region(phone: Page) -> None:
    open_result(phone, FULL_CASE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    regions = phone.locator(".table-scroll:visible")
    assert regions.count() >= 2
    for region in regions.all():
        expect(region).to_have_attribute("tabindex", "0")
        expect(region).to_have_attribute("role", "region")
    wide = phone.locator(".what-if .table-scroll")
    assert wide.evaluate("e => e.scrollWidth > e.clientWidth"), "the what-if table scrolls inside its region"
    wide.focus()
    wide.press("ArrowRight")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(phone) == []


def test_axe_finds_no_serious_or_critical_violation_on_the_form_a_result_and_an_error(watched: Watched) -> None:
    watched.allowed_console_errors.append(re.compile(r"status of 422"))
    page = watched.page
    page.goto("/")
    expect(form(page)).to_have_attribute("data-ready", "true")
    assert axe_violations(page) == [], "the empty form"
    fill_case(page, COLORECTAL)
    explain(page)
    page.locator("details").evaluate_all("all => all.forEach((d) => { d.open = true; })")
    assert page.locator("[id='case-heading']").count() == 1
    assert axe_violations(page) == [], "a result"
    form(page).get_by_label("Largest lesion (cm)").fill("")
    form(page).get_by_role("button", name="Explain", exact=True).click()
    expect(page.locator("#form-errors")).to_be_visible()
    assert axe_violations(page) == [], "an error"
    watched.assert_clean()


# ---- 5 and 6: words, not ids; who the page is for --------------------------------------------------

VISIBLE_PROSE = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const host = n.parentElement;
    if (!host || host.closest("code, script, style, [hidden]") || !host.checkVisibility()) continue;
    found.push(n.textContent);
  }
  return found.join(" ");
}"""


def test_the_page_shows_labels_and_words_never_internal_ids(watched: Watched) -> None:
    watched.allowed_console_errors.append(re.compile(r"status of 422"))
    page = watched.page
    open_result(page, LUNG_CASE)
    page.locator("details").evaluate_all("all => all.forEach((d) => { d.open = true; })")
    text = page.evaluate(VISIBLE_PROSE)
    assert SNAKE_ID.findall(text) == []
    expect(page.locator("#cat-surgical_resection .uses").first).to_contain_text("Primary site: lung")
    form(page).get_by_label("Largest lesion (cm)").fill("")
    form(page).get_by_role("button", name="Explain", exact=True).click()
    expect(page.locator("#largest_lesion_cm-error")).to_contain_text("required")
    expect(page.locator("#form-errors")).to_contain_text("Largest lesion (cm)")
    assert SNAKE_ID.findall(page.evaluate(VISIBLE_PROSE)) == []
    watched.assert_clean()


def test_near_the_top_the_page_says_who_it_is_for_and_what_commonly_discussed_does_not_mean(
    watched: Watched, live_server: str
) -> None:
    page = watched.page
    page.goto("/")
    not_for = httpx.get(f"{live_server}/v1/about").json()["not_for"]
    audience = page.locator("section.audience")
    expect(audience.locator("#not-for")).to_have_text(not_for)
    expect(audience).to_contain_text("“Commonly discussed” means only")
    expect(audience).to_contain_text("does not mean the treatment suits this patient")
    box, form_box = audience.bounding_box(), form(page).bounding_box()
    assert box and form_box and box["y"] < form_box["y"]
    watched.assert_clean()


# ---- 7: the API key ----------------------------------------------------------------------------


def test_with_an_api_key_configured_the_page_asks_for_it_and_then_works(
    browser: Browser, app_settings: Settings
) -> None:
    key = "page-test-key-0123456789"
    with serve_process(app_settings.model_copy(update={"api_key": key})) as base_url:
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            sent_keys: list[str | None] = []
            page.on(
                "request",
                lambda r: (
                    sent_keys.append(r.headers.get("x-api-key")) if urlsplit(r.url).path == "/v1/explain" else None
                ),
            )
            page.goto("/")  # the page, its modules and the schema are open without a key
            expect(form(page)).to_have_attribute("data-ready", "true")
            fill_case(page, COLORECTAL)
            form(page).get_by_role("button", name="Explain", exact=True).click()
            expect(page.locator("#form-errors")).to_contain_text("API key")
            expect(page.locator("#api-key")).to_be_focused()
            page.locator("#api-key").fill(key)
            page.get_by_role("button", name="Use this key").click()
            expect(page.locator("#status")).to_contain_text("Result shown")
            assert sent_keys[0] is None and sent_keys[-1] == key
            assert page.evaluate("sessionStorage.getItem('livermets-api-key')") == key
            expect(page.locator("#not-for")).to_have_text(
                httpx.get(f"{base_url}/v1/about", headers={"X-API-Key": key}).json()["not_for"]
            )
        finally:
            context.close()


# ---- 8: compare ------------------------------------------------------------------------------------


def test_a_pinned_result_is_compared_with_the_changed_case(watched: Watched, live_server: str) -> None:
    page = watched.page
    open_result(page, COLORECTAL_CASE)
    expect(page.locator(".comparison")).to_have_count(0)
    page.get_by_role("button", name="Pin this result to compare").click()
    form(page).get_by_label("Extensive", exact=True).check()
    explain(page)
    changed = {**COLORECTAL_CASE, "extrahepatic_disease": "extensive"}
    expected = httpx.post(f"{live_server}/v1/compare", json={"a": COLORECTAL_CASE, "b": changed}).json()
    comparison = page.locator("section.comparison")
    expect(comparison).to_contain_text("Extrahepatic disease: none → extensive")
    rows = comparison.locator("tbody tr")
    assert rows.evaluate_all("all => all.map((r) => r.dataset.category)") == [
        d["category"] for d in expected["differences"]
    ]
    resection = comparison.locator("tr[data-category='surgical_resection'] td")
    expect(resection.nth(0)).to_have_text("commonly discussed")
    expect(resection.nth(1)).to_have_text("not typically discussed")
    page.get_by_role("button", name="Unpin").click()
    expect(page.locator("section.comparison")).to_have_count(0)
    watched.assert_clean()


# ---- 9 and 10: the form from the schema; ?case= links ------------------------------------------------


def test_every_case_field_is_on_the_form_with_the_schema_bounds(watched: Watched) -> None:
    page = watched.page
    page.goto("/")
    expect(form(page)).to_have_attribute("data-ready", "true")
    for name, field in Case.model_fields.items():
        box = form(page).locator(f"[data-field='{name}']")
        expect(box).to_have_count(1)
        if not field.is_required():
            expect(box.get_by_label("Unknown", exact=True)).to_have_count(1)
    schema = Case.model_json_schema()["properties"]
    for number in form(page).locator("input[type=number]").all():
        name = number.get_attribute("name") or ""
        assert float(number.get_attribute("min") or "nan") == schema[name]["minimum"]
        assert float(number.get_attribute("max") or "nan") == schema[name]["maximum"]
    watched.assert_clean()


def test_a_new_optional_input_in_the_schema_appears_on_the_form_and_is_sent(watched: Watched) -> None:
    page = watched.page

    def with_new_input(route: Route) -> None:
        schema = route.fetch().json()
        # A named enum, as a reference to $defs (how a schema with named enums writes it).
        schema.setdefault("$defs", {})["BiopsyResult"] = {
            "enum": ["benign", "metastatic_adenocarcinoma"],
            "type": "string",
        }
        schema["properties"]["biopsy_result"] = {
            "anyOf": [{"$ref": "#/$defs/BiopsyResult"}, {"type": "null"}],
            "default": None,
            "description": "Result of a liver biopsy; absent = unknown.",
            "title": "Biopsy Result",
        }
        route.fulfill(json=schema, headers={"content-type": "application/schema+json"})

    page.route("**/schemas/case.schema.json", with_new_input)
    page.goto("/")
    group = form(page).get_by_role("group", name="Biopsy Result")
    expect(group.get_by_label("Unknown", exact=True)).to_be_checked()
    expect(group).to_have_accessible_description(re.compile("Result of a liver biopsy"))
    group.get_by_label("Metastatic adenocarcinoma", exact=True).check()
    fill_case(page, COLORECTAL)
    with page.expect_request(lambda r: urlsplit(r.url).path == "/v1/explain") as request:
        form(page).get_by_role("button", name="Explain", exact=True).click()
    assert json.loads(request.value.post_data or "{}")["biopsy_result"] == "metastatic_adenocarcinoma"


def test_a_case_given_in_the_url_fills_the_form_and_is_explained_at_once(watched: Watched) -> None:
    page = watched.page
    with page.expect_request(lambda r: urlsplit(r.url).path == "/v1/explain") as request:
        page.goto(case_link(FULL_CASE))
    assert json.loads(request.value.post_data or "{}") == FULL_CASE
    expect(page.locator("#status")).to_contain_text("Result shown")
    expect(form(page).get_by_label("Extensive", exact=False)).not_to_be_checked()
    expect(form(page).get_by_role("group", name="Lobar distribution").get_by_label("Bilobar")).to_be_checked()
    expect(form(page).get_by_label("Chemotherapy")).to_be_checked()
    expect(form(page).get_by_label("Number of liver lesions")).to_have_value("2")
    expect(page.locator(".case-list")).to_contain_text("potentially resectable")
    watched.assert_clean()


def test_a_url_case_that_is_not_json_is_refused_with_the_reason(watched: Watched) -> None:
    page = watched.page
    page.goto("/?case=" + quote("{primary_site: colorectal"))
    expect(page.locator("#form-errors")).to_contain_text("not valid JSON")
    expect(page.locator("#sheet")).to_have_count(0)
    watched.assert_clean()
