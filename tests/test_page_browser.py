"""The MDT-preparation page in a real headless Chromium, against the real server on loopback.

Each test opens the page in a fresh browser context and, at the end, checks that the page
logged no console error, threw no error and asked nothing of any host but the app's own.
Nothing here sleeps: Playwright's expect() and wait_for_* wait until the page is ready."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app.citations import normalise
from tests.browser import Watched, artifact, launched_chromium, watched_page
from tests.test_api_explain import VOCABULARY

pytestmark = pytest.mark.browser  # and `server`, through the live_server fixture

TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

# The case as JSON, and as the form's text fields and the page URL's query hold it.
COLORECTAL_CASE: dict[str, Any] = {
    "primary_site": "colorectal",
    "lesion_count": 2,
    "largest_lesion_cm": 2.5,
    "extrahepatic_disease": "none",
    "liver_function": "normal",
    "performance_status": 0,
}
COLORECTAL = {key: str(value) for key, value in COLORECTAL_CASE.items()}
COLORECTAL_LINK = "/?" + urlencode(COLORECTAL)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


@pytest.fixture
def watched(browser: Browser, live_server: str) -> Iterator[Watched]:
    yield from watched_page(browser, live_server, TIMEOUT_MS)


def form(page: Page) -> Locator:
    """The case form: labels such as "Chemotherapy" also name parts of the result."""
    return page.locator("#case-form")


def fill_case(page: Page, case: dict[str, str]) -> None:
    """Fills the form as a person would, through the labelled controls."""
    form(page).get_by_label("Primary site").select_option(case["primary_site"])
    form(page).get_by_label("Number of liver lesions").fill(case["lesion_count"])
    form(page).get_by_label("Largest lesion (cm)").fill(case["largest_lesion_cm"])
    for group in ("extrahepatic_disease", "liver_function", "performance_status"):
        page.locator(f'input[name="{group}"][value="{case[group]}"]').check()


def explain(page: Page) -> dict[str, Any]:
    """Clicks Explain and returns the case the page sent, once the result is on the page."""
    with page.expect_response(lambda r: urlsplit(r.url).path == "/v1/explain") as answer:
        page.get_by_role("button", name="Explain", exact=True).click()
    assert answer.value.ok
    expect(page.locator("#status")).to_contain_text("Result shown")
    sent: dict[str, Any] = json.loads(answer.value.request.post_data or "{}")
    return sent


def card(page: Page, section: str, category: str) -> Locator:
    return page.locator(f"section.{section} #cat-{category}")


def test_colorectal_case_shows_resection_commonly_discussed_with_a_quoted_citation(
    watched: Watched, live_server: str, seeds: Path
) -> None:
    page = watched.page
    page.goto("/")
    fill_case(page, COLORECTAL)
    sent = explain(page)

    # Unknown optional inputs are left out of the request, not guessed.
    assert sent == COLORECTAL_CASE
    resection = card(page, "discussed", "surgical_resection")
    expect(resection).to_be_visible()
    expect(resection.locator(".category-heading")).to_contain_text("commonly discussed")
    quote = resection.locator(".citation blockquote").first
    caption = resection.locator(".citation figcaption").first
    expect(quote).to_have_text(re.compile(r"^“.{20,}”$"))
    # The passage shown is verbatim in the source document whose title is shown with it.
    sources = {s["title"]: s for s in httpx.get(f"{live_server}/v1/sources").json()}
    title = caption.locator("cite").inner_text()
    assert title in sources
    document = (seeds / sources[title]["document"]).read_text(encoding="utf-8")
    assert normalise(quote.inner_text().strip("“”")) in normalise(document)

    # The disclaimer comes first, before any category.
    disclaimer = page.locator("#sheet .disclaimer")
    expect(disclaimer).to_contain_text("multidisciplinary team (MDT)")
    disclaimer_box = disclaimer.bounding_box()
    first_category = page.locator("#sheet .category").first.bounding_box()
    assert disclaimer_box is not None and first_category is not None
    assert disclaimer_box["y"] < first_category["y"]
    expect(page.locator(".case-list")).to_contain_text("unknown (not given)")
    expect(page.locator("table.option-grid tbody tr")).to_have_count(len(VOCABULARY))  # every category

    # The form beside the start of the result: the picture the README shows (make screenshot).
    page.screenshot(
        path=artifact("page-result.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1500}
    )
    watched.assert_clean()


def test_extensive_extrahepatic_disease_moves_resection_to_not_discussed_with_its_reason(watched: Watched) -> None:
    page = watched.page
    page.goto("/")
    fill_case(page, COLORECTAL)
    explain(page)
    expect(card(page, "discussed", "surgical_resection")).to_be_visible()

    form(page).get_by_label("Extensive", exact=True).check()
    sent = explain(page)
    assert sent["extrahepatic_disease"] == "extensive"
    moved = card(page, "not-discussed", "surgical_resection")
    expect(moved).to_be_visible()
    expect(card(page, "discussed", "surgical_resection")).to_have_count(0)
    reason = moved.locator(".statement").first
    expect(reason.locator(".because")).not_to_be_empty()
    # The reason names the input that moved it (directly or through the facts derived from it).
    expect(reason).to_contain_text("Extrahepatic disease: extensive")
    expect(reason.locator(".citation blockquote")).not_to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifact("page-result-extensive.png"))
    watched.assert_clean()


def test_a_shared_link_opens_the_same_case_and_the_same_result(browser: Browser, watched: Watched) -> None:
    page = watched.page
    page.goto("/")
    fill_case(page, {**COLORECTAL, "extrahepatic_disease": "extensive", "performance_status": "1"})
    form(page).get_by_role("group", name="Symptoms").get_by_label("No", exact=True).check()
    form(page).get_by_role("group", name="Prior treatments").get_by_label("Known", exact=True).check()
    form(page).get_by_label("Chemotherapy").check()
    explain(page)
    link = page.url
    assert parse_qs(urlsplit(link).query)["prior_treatments"] == ["chemotherapy"]
    expect(page.locator("a.share-link")).to_have_attribute("href", link)
    result_here = page.locator("section.discussed, section.not-discussed").all_inner_texts()

    # A colleague opens the link in a browser of their own: the same case, the same answer.
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        shared = other.new_page()
        errors: list[str] = []
        shared.on("pageerror", lambda error: errors.append(str(error)))
        shared.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        shared.goto(link)
        expect(shared.locator("#status")).to_contain_text("Result shown")
        assert shared.locator("section.discussed, section.not-discussed").all_inner_texts() == result_here
        expect(form(shared).get_by_label("Extensive", exact=True)).to_be_checked()
        expect(form(shared).get_by_label("Chemotherapy")).to_be_checked()
        expect(form(shared).get_by_role("group", name="Symptoms").get_by_label("No", exact=True)).to_be_checked()
        expect(form(shared).get_by_label("Number of liver lesions")).to_have_value("2")
        assert errors == []
    finally:
        other.close()

    # Back in the first browser, the history steps back to the case before.
    form(page).get_by_label("Limited", exact=True).check()
    explain(page)
    page.go_back()
    expect(form(page).get_by_label("Extensive", exact=True)).to_be_checked()
    expect(card(page, "not-discussed", "surgical_resection")).to_be_visible()
    watched.assert_clean()


def test_the_print_view_is_one_sheet_with_the_disclaimer_date_and_rulebook_version(
    watched: Watched, live_server: str
) -> None:
    page = watched.page
    page.goto(COLORECTAL_LINK)
    expect(page.locator("#status")).to_contain_text("Result shown")
    stamp = httpx.get(f"{live_server}/healthz").json()["rulebook"]

    page.emulate_media(media="print")
    expect(page.locator("#sheet .disclaimer")).to_be_visible()
    expect(page.locator("#sheet .disclaimer")).to_contain_text("Every case of liver metastases belongs in a")
    expect(page.locator("#case-form")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".sheet-actions")).to_be_hidden()
    expect(page.locator(".sheet-head")).to_contain_text(f"rulebook version {stamp['version']} of {stamp['date']}")
    # Paper has no tooltip: the digest prints in full.
    expect(page.locator(".sheet-head .digest-full")).to_be_visible()
    expect(page.locator(".sheet-head .digest-full")).to_have_text(stamp["digest"])
    expect(page.locator(".sheet-head")).to_contain_text(re.compile(r"Prepared \d{4}-\d{2}-\d{2}"))
    expect(page.locator("section.discussed .category").first).to_be_visible()
    expect(page.locator("section.discussed .citation").first).to_be_visible()
    # Only one case is on the sheet, and the page prints as A4 pages.
    expect(page.locator("#sheet")).to_have_count(1)
    pdf = page.pdf(path=artifact("mdt-sheet.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")

    page.emulate_media(media="screen")
    expect(page.locator("#case-form")).to_be_visible()
    watched.assert_clean()


def test_the_markdown_download_is_the_same_sheet(watched: Watched, live_server: str) -> None:
    page = watched.page
    page.goto(COLORECTAL_LINK)
    expect(page.locator("#status")).to_contain_text("Result shown")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download Markdown").click()
    download = download_info.value
    assert re.fullmatch(r"mdt-sheet-colorectal-\d{4}-\d{2}-\d{2}\.md", download.suggested_filename)
    path = artifact(download.suggested_filename)
    download.save_as(path)
    text = path.read_text(encoding="utf-8")

    body = httpx.post(f"{live_server}/v1/explain", json=COLORECTAL_CASE).json()
    assert text.startswith("# MDT preparation sheet\n")
    assert text.index("## Disclaimer") < text.index("## Commonly discussed") < text.index("## Not typically discussed")
    assert body["disclaimer"] in text
    assert f"rulebook version {body['rulebook']['version']} of {body['rulebook']['date']}" in text
    assert f"digest {body['rulebook']['digest']}" in text
    for item in body["discussed"] + body["not_discussed"]:
        assert f"### {item['label']}" in text
    assert body["discussed"][0]["rationale"][0]["citations"][0]["quote"] in text
    assert "| Symptoms | unknown (not given) |" in text
    watched.assert_clean()


# Many large lesions, which the liver surgeon judges unresectable.
UNRESECTABLE = {**COLORECTAL, "lesion_count": "12", "largest_lesion_cm": "8", "performance_status": "1"}


def surgeons_assessment(page: Page) -> Locator:
    return form(page).get_by_role("group", name="Liver surgeon\u2019s assessment")


def test_discussed_categories_show_those_for_this_case_first_then_those_listed_in_general(
    watched: Watched, live_server: str
) -> None:
    page = watched.page
    page.goto("/")
    fill_case(page, UNRESECTABLE)
    surgeons_assessment(page).get_by_label("Unresectable", exact=True).check()
    sent = explain(page)
    assert sent["technical_resectability"] == "unresectable"
    body = httpx.post(f"{live_server}/v1/explain", json=sent).json()
    bases = [item["basis"] for item in body["discussed"]]
    assert {"case", "general"} <= set(bases), f"the rulebook gives this case no two groups to show: {bases}"

    groups = page.locator("section.discussed section.basis-group")
    expect(groups).to_have_count(2)
    case_group, general_group = groups.nth(0), groups.nth(1)
    expect(case_group).to_have_attribute("data-basis", "case")
    expect(case_group.locator(".group-heading")).to_have_text(f"For this case ({bases.count('case')})")
    expect(general_group).to_have_attribute("data-basis", "general")
    expect(general_group.locator(".group-heading")).to_have_text(
        f"Listed for liver metastases in general ({bases.count('general')})"
    )
    case_box, general_box = case_group.bounding_box(), general_group.bounding_box()
    assert case_box is not None and general_box is not None
    assert case_box["y"] + case_box["height"] <= general_box["y"], "the case-specific group comes first"
    # Each discussed category is in the group of its basis; each general one says so on its card.
    for item in body["discussed"]:
        placed = page.locator(f"section.basis-{item['basis']} #cat-{item['category']}")
        expect(placed).to_be_visible()
        if item["basis"] == "general":
            expect(placed.locator(".category-heading")).to_contain_text("listed for liver metastases in general")
        else:
            expect(placed.locator(".category-heading")).not_to_contain_text("in general")

    # The overview agrees: the counts in the headings and status line, and the option grid's order.
    shown = page.locator("section.discussed .category").evaluate_all("all => all.map((c) => c.dataset.category)")
    expected_order = [i["category"] for i in body["discussed"] if i["basis"] == "case"] + [
        i["category"] for i in body["discussed"] if i["basis"] == "general"
    ]
    assert shown == expected_order
    grid_rows = page.locator("table.option-grid tbody tr").evaluate_all("all => all.map((r) => r.dataset.category)")
    assert grid_rows[: len(shown)] == shown
    expect(page.locator("#discussed-heading")).to_contain_text(
        f"{bases.count('case')} for this case, {bases.count('general')} in general"
    )
    expect(page.locator("#status")).to_contain_text(f"({bases.count('case')} for this case, ")
    page.screenshot(path=artifact("page-result-groups.png"), full_page=True)
    watched.assert_clean()


def test_an_unknown_surgeons_assessment_shows_what_resection_depends_on(watched: Watched, live_server: str) -> None:
    page = watched.page
    page.goto("/")
    fill_case(page, COLORECTAL)
    expect(surgeons_assessment(page).get_by_label("Unknown", exact=True)).to_be_checked()
    sent = explain(page)
    assert "technical_resectability" not in sent

    resection = card(page, "discussed", "surgical_resection")
    note = resection.locator(".depends-on li[data-depends-on='technical_resectability']")
    expect(note).to_be_visible()
    expect(note).to_have_text(
        re.compile(r"^Depends on the surgeon's assessment: would be not typically discussed if .*\bunresectable\b")
    )
    # Prominent: right under the heading with the status, before the reasons.
    note_box = note.bounding_box()
    reasons_box = resection.locator(".statement").first.bounding_box()
    assert note_box is not None and reasons_box is not None
    assert note_box["y"] < reasons_box["y"]

    # Every card, discussed or not, shows a note exactly when its status depends on an unknown input.
    body = httpx.post(f"{live_server}/v1/explain", json=sent).json()
    wording = {"discussed": "commonly discussed", "not_discussed": "not typically discussed"}
    for item in body["discussed"] + body["not_discussed"]:
        notes = page.locator(f"#cat-{item['category']} .depends-on li")
        fields = list(dict.fromkeys(d["field"] for d in item["depends_on"]))
        expect(notes).to_have_count(len(fields))
        for dependency in item["depends_on"]:
            line = page.locator(f"#cat-{item['category']} .depends-on li[data-depends-on='{dependency['field']}']")
            expect(line).to_contain_text("Depends on ")
            expect(line).to_contain_text(f"would be {wording[dependency['would_be']]} if ")
    watched.assert_clean()


def test_liver_function_starts_unknown_and_the_page_says_what_it_would_change(watched: Watched) -> None:
    page = watched.page
    page.goto("/")
    liver = form(page).locator("[data-field='liver_function']")
    expect(liver.get_by_label("Unknown", exact=True)).to_be_checked()
    form(page).get_by_label("Primary site").select_option("colorectal")
    form(page).get_by_label("Number of liver lesions").fill("5")
    form(page).get_by_label("Largest lesion (cm)").fill("2")
    sent = explain(page)
    assert "liver_function" not in sent
    note = card(page, "not-discussed", "external_radiotherapy").locator(
        ".depends-on li[data-depends-on='liver_function']"
    )
    expect(note).to_have_text(re.compile(r"^Depends on liver function: would be commonly discussed if cirrhosis"))
    watched.assert_clean()


def test_the_rulebook_digest_is_shown_beside_its_version(watched: Watched, live_server: str) -> None:
    page = watched.page
    page.goto(COLORECTAL_LINK)
    expect(page.locator("#status")).to_contain_text("Result shown")
    stamp = httpx.get(f"{live_server}/healthz").json()["rulebook"]
    digest = stamp["digest"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    short = f"{digest[: len('sha256:') + 12]}…"

    # On screen the digest is shortened (inner text: what is rendered), the full value in the title.
    head = page.locator(".sheet-head")
    expect(head).to_contain_text(
        f"rulebook version {stamp['version']} of {stamp['date']} · digest {short}", use_inner_text=True
    )
    expect(head.locator(".digest")).to_have_attribute("title", digest)
    expect(head.locator(".digest-full")).to_be_hidden()
    footer = page.locator("#rulebook-stamp")
    expect(footer).to_contain_text(
        f"version {stamp['version']} of {stamp['date']} (digest {short})", use_inner_text=True
    )
    expect(footer.locator(".digest")).to_have_attribute("title", digest)
    watched.assert_clean()


def test_the_new_inputs_are_sent_and_come_back_from_the_link(watched: Watched) -> None:
    page = watched.page
    page.goto("/")
    fill_case(page, COLORECTAL)
    surgeons_assessment(page).get_by_label("Potentially resectable (if it shrinks)").check()
    choices = {"Disease elsewhere controlled": "Yes", "Ascites": "No", "Other treatments exhausted": "Yes"}
    for group, answer in choices.items():
        form(page).get_by_role("group", name=group, exact=True).get_by_label(answer, exact=True).check()
    sent = explain(page)
    assert sent == {
        **COLORECTAL_CASE,
        "technical_resectability": "potentially_resectable",
        "systemic_disease_controlled": True,
        "ascites": False,
        "other_treatments_exhausted": True,
    }
    query = parse_qs(urlsplit(page.url).query)
    assert query["technical_resectability"] == ["potentially_resectable"]
    assert (query["systemic_disease_controlled"], query["ascites"]) == (["true"], ["false"])
    expect(page.locator(".case-list")).to_contain_text("potentially resectable")

    # Opening the link fills the form with the same answers and asks for the same case.
    opened = page.context.new_page()
    opened.on("console", watched.on_console)
    opened.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    opened.on("request", watched.on_request)
    with opened.expect_request(lambda r: urlsplit(r.url).path == "/v1/explain") as request:
        opened.goto(page.url)
    assert json.loads(request.value.post_data or "{}") == sent
    expect(opened.locator("#status")).to_contain_text("Result shown")
    expect(surgeons_assessment(opened).get_by_label("Potentially resectable (if it shrinks)")).to_be_checked()
    for group, answer in choices.items():
        expect(
            form(opened).get_by_role("group", name=group, exact=True).get_by_label(answer, exact=True)
        ).to_be_checked()
    watched.assert_clean()


def test_errors_from_the_api_are_shown_next_to_their_field(watched: Watched) -> None:
    watched.allowed_console_errors.append(re.compile(r"status of 422"))
    page = watched.page
    page.goto(COLORECTAL_LINK)
    expect(page.locator("#sheet")).to_have_count(1)
    form(page).get_by_label("Number of liver lesions").fill("0")
    form(page).get_by_label("Largest lesion (cm)").fill("")
    page.get_by_role("button", name="Explain", exact=True).click()

    lesions = page.locator("#lesion_count-error")
    expect(lesions).to_be_visible()
    expect(lesions).to_contain_text("greater than or equal to 1")
    expect(form(page).get_by_label("Number of liver lesions")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#largest_lesion_cm-error")).to_contain_text("required")
    expect(page.locator("#sheet")).to_have_count(0)
    summary = page.locator("#form-errors")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link", name=re.compile("Number of liver lesions"))).to_be_visible()

    # Correcting the value clears the messages.
    form(page).get_by_label("Number of liver lesions").fill("3")
    form(page).get_by_label("Largest lesion (cm)").fill("1.5")
    explain(page)
    expect(lesions).to_be_hidden()
    expect(summary).to_be_hidden()
    watched.assert_clean()


def test_a_link_with_a_value_the_form_does_not_offer_says_so_by_the_field(watched: Watched) -> None:
    page = watched.page
    page.goto("/?" + urlencode({**COLORECTAL, "primary_site": "liver"}))
    expect(page.locator("#primary_site-error")).to_contain_text("“liver”, which is not one of the choices")
    expect(page.locator("#sheet")).to_have_count(0)
    watched.assert_clean()


def test_the_form_works_from_the_keyboard_alone(watched: Watched) -> None:
    page = watched.page
    page.goto("/")
    focused = "(e => e.id || `${e.name}=${e.value}`)(document.activeElement)"

    def tab_to(target: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate(focused) == target:
                return
        raise AssertionError(f"Tab never reached {target}")

    tab_to("extrahepatic_disease=none")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(form(page).get_by_label("Extensive", exact=True)).to_be_checked()
    tab_to("explain-button")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused control must show where the focus is"
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Result shown")
    expect(card(page, "not-discussed", "surgical_resection")).to_be_visible()
    watched.assert_clean()


# Every visible text against the background it is drawn on: WCAG's 4.5:1 for normal text.
CONTRAST_CHECK = """() => {
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const colour = rgb(getComputedStyle(node).backgroundColor);
      if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  let checked = 0;
  for (const node of document.querySelectorAll("body *")) {
    const text = [...node.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join("");
    if (!text || !node.checkVisibility()) continue;
    const fg = luminance(rgb(getComputedStyle(node).color).slice(0, 3));
    const bg = luminance(background(node));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    checked += 1;
    if (ratio < 4.5) failures.push(`${node.tagName}.${node.className} "${text.slice(0, 40)}": ${ratio.toFixed(2)}`);
  }
  return { checked, failures };
}"""

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label") && !c.textContent.trim())
  .map((c) => c.outerHTML)"""

GROUPS_WITHOUT_LEGEND = """() => [...document.querySelectorAll("input[type=radio], input[type=checkbox]")]
  .filter((c) => { const f = c.closest("fieldset"); return !f || !f.querySelector("legend"); })
  .map((c) => c.name + "=" + c.value)"""


def test_accessibility_basics_labels_groups_live_region_and_contrast(watched: Watched) -> None:
    page = watched.page
    page.goto(COLORECTAL_LINK)
    expect(page.locator("#status")).to_contain_text("Result shown")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.evaluate(GROUPS_WITHOUT_LEGEND) == []
    expect(page.locator("#results #status")).to_have_attribute("aria-live", "polite")
    # Help text is tied to its control, so a screen reader reads it with the label.
    expect(form(page).get_by_label("Number of liver lesions")).to_have_accessible_description(
        re.compile("whole number from 1 to 100")
    )
    expect(form(page).get_by_role("group", name="Extrahepatic disease")).to_have_accessible_description(
        re.compile("Cancer outside the liver other than the primary tumour")
    )
    page.locator("details").evaluate_all("all => all.forEach((d) => { d.open = true; })")
    contrast = page.evaluate(CONTRAST_CHECK)
    assert contrast["failures"] == []
    assert contrast["checked"] > 500, "the check must have seen the form and the whole result"
    watched.assert_clean()
