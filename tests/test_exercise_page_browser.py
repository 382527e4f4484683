"""The exercise page (/exercises) in a real headless Chromium, against the real server on loopback.

Each test opens the page in a fresh browser context and, at the end, checks that the page logged no
console error, threw no error and asked nothing of any host but the app's own. The answers the tests
give are built from the API's own keys (GET ...?with_key=true), and every score the page shows is
compared with what the API scores for the same answers. Nothing here sleeps: Playwright's expect()
and wait_for_* wait until the page is ready."""

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app.citations import normalise
from app.routes.page import CONTENT_SECURITY_POLICY
from app.settings import Settings
from tests.browser import Watched, artifact, axe_violations, launched_chromium, watched_page
from tests.live_server import serve_process
from tests.test_exercise_wording import LEARNING_CLAIM
from tests.test_wording_and_citations import FORBIDDEN

pytestmark = pytest.mark.browser  # and `server`, through the live_server fixture

TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
VIGNETTE = "crc-solitary-fit"
DISCLAIMER_WORDS = "multidisciplinary team (MDT)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


@pytest.fixture
def watched(browser: Browser, live_server: str) -> Iterator[Watched]:
    yield from watched_page(browser, live_server, TIMEOUT_MS)


def keyed_items(live_server: str, vignette: str, **query: Any) -> list[dict[str, Any]]:
    """The exercise's items with their keys, as the API gives them to a teacher."""
    body = httpx.get(f"{live_server}/v1/exercises/{vignette}", params={"with_key": "true", **query}, timeout=60).json()
    return [item for exercise in [body["exercise"], *body["variants"]] for item in exercise["items"]]


def keyed_answer(item: dict[str, Any]) -> str | int:
    """The answer the key gives: a scale value, a choice's value or a status, by the item's type."""
    field = {"concordance": "value", "why_not": "option"}.get(item["type"], "status")
    answer: str | int = item["key"][field]
    return answer


def planned_answers(items: list[dict[str, Any]]) -> dict[str, str | int]:
    """The key for every other item, another choice for the rest: a round with hits and misses."""
    answers: dict[str, str | int] = {}
    for index, item in enumerate(items):
        key = keyed_answer(item)
        answers[item["id"]] = key if index % 2 == 0 else next(c["value"] for c in item["choices"] if c["value"] != key)
    return answers


def api_score(live_server: str, vignette: str, sheet: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{live_server}/v1/exercises/{vignette}/answers", json=sheet, timeout=60)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def shown_score(report: dict[str, Any]) -> str:
    text = f"{report['score']:.2f}".rstrip("0").rstrip(".")
    return f"Item score: {text} of {report['max_score']}"


def start(page: Page, title: str, mode: str, seed: int | None = None, variants: int = 1) -> None:
    page.get_by_role("group", name="Vignette").get_by_label(title).check()
    if seed is not None:
        page.locator("#learner").get_by_label("Seed", exact=True).fill(str(seed))
        page.locator("#learner").get_by_label("Number of variants").fill(str(variants))
    page.get_by_role("group", name="Mode").get_by_role("radio", name=re.compile(f"^{mode}:", re.I)).check()
    page.get_by_role("button", name="Start the exercise").click()
    expect(page.locator("#status")).to_contain_text("Exercise loaded")


def choose(item: Locator, answer: str | int) -> None:
    item.locator(f'input[type=radio][value="{answer}"]').check()


def title_of(base_url: str, vignette: str, headers: dict[str, str] | None = None) -> str:
    summaries = httpx.get(f"{base_url}/v1/exercises", headers=headers).json()
    return str(next(s["title"] for s in summaries if s["id"] == vignette))


def test_a_practice_round_gives_feedback_on_every_item_and_the_score_the_api_gives(
    watched: Watched, live_server: str, seeds: Path
) -> None:
    page = watched.page
    response = page.goto("/exercises")
    assert response is not None and response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    # The same policy and headers on the page's script modules; nothing else is served from its folder.
    for path in ("/exercises", "/exercises/assets/exercises.js", "/exercises/assets/exercise-items.js"):
        for answer in (httpx.get(live_server + path), httpx.head(live_server + path)):
            assert answer.status_code == 200, path
            assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            security = ("x-content-type-options", "referrer-policy", "x-frame-options")
            assert [answer.headers[h] for h in security] == ["nosniff", "no-referrer", "DENY"], path
    assert httpx.get(live_server + "/exercises/assets/index.html").status_code == 404
    start(page, title_of(live_server, VIGNETTE), "practice")
    items = keyed_items(live_server, VIGNETTE)
    answers = planned_answers(items)
    boxes = page.locator(".item")
    expect(boxes).to_have_count(len(items))
    assert sorted(boxes.evaluate_all("all => all.map((b) => b.dataset.item)")) == sorted(answers)
    expect(page.locator(".sheet > .disclaimer")).to_contain_text(DISCLAIMER_WORDS)
    expect(page.locator(".group-concordance .concordance-label")).to_contain_text(
        "Keyed by the rulebook, not a validated script concordance test"
    )

    sources = {s["id"]: s for s in httpx.get(f"{live_server}/v1/sources").json()}
    titles = {s["title"]: s for s in sources.values()}
    for number in range(1, len(items) + 1):
        box = page.locator(f"#item-{number}")
        item_id = box.get_attribute("data-item")
        assert item_id is not None
        choose(box, answers[item_id])
        box.get_by_role("button", name="Check answer").click()
        feedback = box.locator(".feedback")
        expect(feedback).to_be_visible()
        expect(feedback).to_be_focused()  # focus moves to the feedback, named by its verdict ...
        expect(feedback).to_have_accessible_name(re.compile(f"^Item {number}: "))
        expect(page.locator("#status")).to_contain_text(f"Item {number}: ")  # ... and the live region says so
        matches = next(i for i in items if i["id"] == item_id)
        hit = answers[item_id] == keyed_answer(matches)
        expect(feedback.locator(".verdict")).to_contain_text(
            "Matches the key" if hit else re.compile(r"(Does not match|Near) the key")
        )
        expect(feedback.locator(".answer-vs-key .yours dd")).not_to_be_empty()
        expect(feedback.locator(".answer-vs-key .key dd")).not_to_be_empty()
        expect(feedback.locator(".disclaimer")).to_contain_text(DISCLAIMER_WORDS)
        expect(feedback).not_to_contain_text(re.compile(r"\b(null|undefined)\b"))
        expect(box.locator("input[type=radio]").first).to_be_disabled()  # a checked item stays as answered
        if number == 2:  # one item that matches the key and one that does not: the README's picture
            shown = feedback.locator(".answer-vs-key")
            bottom = shown.evaluate("(e) => e.getBoundingClientRect().bottom + window.scrollY")
            page.screenshot(
                path=artifact("exercise-page.png"),
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1280, "height": min(bottom + 16, 2600)},
            )

    # Reasons with their "because" and verbatim quotes, captioned with source title and section.
    quotes = page.locator(".feedback .citation")
    assert quotes.count() > 0
    for index in range(min(quotes.count(), 12)):
        figure = quotes.nth(index)
        caption = figure.locator("figcaption").inner_text()
        title = figure.locator("cite").inner_text()
        assert title in titles and ", section “" in caption
        document = (seeds / titles[title]["document"]).read_text(encoding="utf-8")
        assert normalise(figure.locator("blockquote").inner_text().strip("“”")) in normalise(document)
    expect(page.locator(".feedback .because").first).not_to_be_empty()
    # A change item shows the answer before and after the change; a concordance item says what its key is not.
    expect(page.locator(".item-change .feedback .before-after").first).to_contain_text("Before the change: ")
    concordance_notes = page.locator(".concordance-note")
    expect(concordance_notes).to_have_count(sum(item["type"] == "concordance" for item in items))
    expect(concordance_notes.first).to_have_text("Keyed by the rulebook, not a validated script concordance test.")

    with page.expect_request(lambda r: r.url.endswith(f"/v1/exercises/{VIGNETTE}/answers")) as sent:
        page.get_by_role("button", name="Finish and see the score").click()
    assert sent.value.post_data_json == {"mode": "practice", "answers": answers}
    report = api_score(live_server, VIGNETTE, {"mode": "practice", "answers": answers})
    assert 0 < report["score"] < report["max_score"] == len(items)
    score = page.locator("#score")
    expect(score).to_be_focused()
    expect(score.locator(".score-total")).to_have_text(shown_score(report))
    expect(page.locator("#status")).to_contain_text("Score shown")
    missed = score.locator(".missed-rules li").evaluate_all("all => all.map((li) => li.dataset.rule)")
    assert missed == [m["rule"] for m in report["most_missed_rules"]] and missed
    expect(score.locator(".disclaimer")).to_contain_text(DISCLAIMER_WORDS)
    page.screenshot(path=artifact("exercise-score.png"), full_page=False)

    # The page's own words, outside the quotes, direct nobody and claim no learning effect.
    words = page.locator("body").evaluate(
        "(b) => { const c = b.cloneNode(true); c.querySelectorAll('blockquote').forEach((q) => q.remove());"
        " return c.innerText; }"
    )
    assert not FORBIDDEN.search(words), FORBIDDEN.search(words)
    assert not LEARNING_CLAIM.search(words), LEARNING_CLAIM.search(words)
    watched.assert_clean()


def test_test_mode_withholds_the_feedback_until_the_end(watched: Watched, live_server: str) -> None:
    page = watched.page
    page.goto("/exercises")
    seed, variants = 11, 1
    start(page, title_of(live_server, VIGNETTE), "test", seed=seed, variants=variants)
    items = keyed_items(live_server, VIGNETTE, seed=seed, variants=variants)
    assert any(item["parent"] for item in items), "the seed must bring a variant's items"
    boxes = page.locator(".item")
    expect(boxes).to_have_count(len(items))
    expect(page.get_by_role("button", name="Check answer")).to_have_count(0)

    # Answer some items (one of them a variant's), leave the rest.
    given: dict[str, str | int] = {}
    planned = planned_answers(items)
    for item in [items[0], items[1], next(i for i in items if i["parent"])]:
        choose(page.locator(f'.item[data-item="{item["id"]}"]'), planned[item["id"]])
        given[item["id"]] = planned[item["id"]]
    expect(page.locator("#answered-count")).to_have_text(f"Answered {len(given)} of {len(items)} items.")
    expect(page.locator(".feedback:visible")).to_have_count(0)
    expect(page.locator("#score")).to_be_hidden()
    # Nothing on the page gives a key away before the end (a status item's note names its key).
    expect(page.locator("#exercise")).not_to_contain_text(re.compile(r"Keyed (commonly|not typically|depends)"))

    with page.expect_request(lambda r: r.url.endswith("/answers")) as sent:
        page.get_by_role("button", name="Submit all answers and see the score").click()
    sheet = {"mode": "test", "answers": given, "seed": seed, "variants": variants}
    assert sent.value.post_data_json == sheet
    report = api_score(live_server, VIGNETTE, sheet)
    expect(page.locator("#score .score-total")).to_have_text(shown_score(report))
    expect(page.locator(".feedback:visible")).to_have_count(len(items))  # now every item has its feedback
    unanswered = page.locator(f'.item[data-item="{items[2]["id"]}"] .feedback')
    expect(unanswered.locator(".verdict")).to_contain_text("Not answered (score 0)")
    expect(unanswered.locator(".answer-vs-key .yours dd")).to_have_text("no answer")

    # Another exercise: the list of vignettes comes back, and the finished one goes.
    page.get_by_role("button", name="Choose another exercise").click()
    expect(page.locator("#start-heading")).to_be_focused()
    expect(page.locator(".item")).to_have_count(0)
    watched.assert_clean()


def test_an_item_can_be_answered_and_checked_with_the_keyboard_alone(watched: Watched, live_server: str) -> None:
    page = watched.page
    page.goto("/exercises")
    expect(page.locator('input[name="vignette"]')).not_to_have_count(0)
    focused = "(e => e.id || (e.name ? `${e.name}=${e.value}` : e.textContent.trim()))(document.activeElement)"

    def tab_to(pattern: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if re.fullmatch(pattern, page.evaluate(focused)):
                return
        raise AssertionError(f"Tab never reached {pattern}")

    # The two views are tabs: the arrow keys move between them.
    tab_to("tab-learner")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Teacher")).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Teacher")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tabpanel", name="Learner")).to_be_visible()

    tab_to(r"vignette=.+")
    page.keyboard.press("Space")  # the first vignette in the list
    chosen = page.evaluate("document.activeElement.value")
    tab_to("start-button")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Exercise loaded")
    expect(page.locator("#exercise-heading")).to_be_focused()

    tab_to(r"answer-1=.+")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # the second choice of item 1
    answer = page.evaluate("document.activeElement.value")
    tab_to(r"Check answer")
    page.keyboard.press("Enter")
    feedback = page.locator("#item-1-feedback")
    expect(feedback).to_be_focused()
    expect(page.locator("#status")).to_contain_text("Item 1: ")
    item_id = page.locator("#item-1").get_attribute("data-item")
    report = api_score(live_server, chosen, {"mode": "practice", "answers": {item_id: answer}})
    expect(feedback.locator(".answer-vs-key .yours dd")).to_have_text(report["results"][0]["feedback"]["answer_text"])
    expect(feedback.locator(".answer-vs-key .key dd")).to_have_text(report["results"][0]["feedback"]["key_text"])
    watched.assert_clean()


def test_the_teacher_view_lists_the_vignettes_and_its_export_links_download_files(
    watched: Watched, live_server: str
) -> None:
    page = watched.page
    page.goto("/exercises")
    page.get_by_role("tab", name="Teacher").click()
    summaries = httpx.get(f"{live_server}/v1/exercises").json()
    rows = page.locator("#vignette-table tbody tr")
    expect(rows).to_have_count(len(summaries))
    first = rows.first
    expect(first.locator("th")).to_contain_text(summaries[0]["title"])
    expect(first.locator("td").nth(0)).to_have_text(summaries[0]["difficulty"])
    expect(first.locator("td li")).to_have_count(len(summaries[0]["objectives"]))
    page.screenshot(path=artifact("exercise-teacher.png"))

    # Each link downloads a non-empty file of its format.
    signatures = {"Moodle XML": b"<?xml", "QTI 1.2": b"PK", "Anki deck": b"PK", "Printable handout": b"<!"}
    for name, start_bytes in signatures.items():
        with page.expect_download() as download_info:
            page.get_by_role("link", name=name).click()
        path = artifact(download_info.value.suggested_filename)
        download_info.value.save_as(path)
        data = path.read_bytes()
        assert data.lstrip().upper().startswith(start_bytes.upper()), name
        if start_bytes == b"PK":
            assert zipfile.ZipFile(path).namelist()
        if name == "Moodle XML":
            assert b"<quiz" in data

    # Variants without a seed are refused beside the inputs; with a seed the links carry both.
    page.get_by_label("Variants per vignette").fill("1")
    expect(page.locator("#export-error")).to_contain_text("Variants need a seed")
    expect(page.get_by_role("link", name="Moodle XML")).to_have_attribute(
        "href", "/v1/exercises/export?format=moodle-xml"
    )
    page.get_by_role("tabpanel", name="Teacher").get_by_label("Seed", exact=True).fill("5")
    expect(page.locator("#export-error")).to_be_hidden()
    link = page.get_by_role("link", name="Moodle XML")
    expect(link).to_have_attribute("href", "/v1/exercises/export?format=moodle-xml&seed=5&variants=1")
    with page.expect_download() as download_info:
        link.click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(b"<?xml") and b"--" in data  # variant ids are the vignette's id, "--", the change

    # Ticked vignettes alone are exported.
    chosen_ids = [summaries[0]["id"], summaries[-1]["id"]]
    for summary in (summaries[0], summaries[-1]):
        page.get_by_role("checkbox", name=f"Export {summary['title']}").check()
    expect(page.locator("#export-selection")).to_have_text("Only the 2 vignettes ticked below are exported.")
    expect(link).to_have_attribute(
        "href", f"/v1/exercises/export?format=moodle-xml&seed=5&variants=1&ids={','.join(chosen_ids)}"
    )
    with page.expect_download() as download_info:
        link.click()
    data = Path(download_info.value.path()).read_bytes()
    assert all(i.encode() in data for i in chosen_ids) and summaries[1]["id"].encode() not in data

    # From a row, the teacher opens the vignette in the learner view, chosen and ready to start.
    last = summaries[-1]
    page.get_by_role("button", name=f"Try it as a learner: {last['title']}").click()
    expect(page.get_by_role("tab", name="Learner")).to_have_attribute("aria-selected", "true")
    chosen = page.locator(f'input[name="vignette"][value="{last["id"]}"]')
    expect(chosen).to_be_checked()
    expect(chosen).to_be_focused()
    watched.assert_clean()


def test_axe_finds_no_serious_or_critical_violation(watched: Watched, live_server: str) -> None:
    page = watched.page
    page.goto("/exercises")
    expect(page.locator('input[name="vignette"]')).not_to_have_count(0)
    assert axe_violations(page) == [], "the start view"

    start(page, title_of(live_server, VIGNETTE), "practice")
    for number in (1, 2):
        box = page.locator(f"#item-{number}")
        box.locator("input[type=radio]").nth(number).check()
        box.get_by_role("button", name="Check answer").click()
        expect(box.locator(".feedback")).to_be_visible()
    page.get_by_role("button", name="Check answer").first.click()  # without an answer: the message
    expect(page.locator(".item .field-error:visible")).to_have_count(1)
    page.get_by_role("button", name="Finish and see the score").click()
    expect(page.locator("#score")).to_be_visible()
    page.locator("details").evaluate_all("all => all.forEach((d) => { d.open = true; })")
    assert axe_violations(page) == [], "an exercise with feedback, a message and the score"

    page.get_by_role("tab", name="Teacher").click()
    page.get_by_label("Variants per vignette").fill("2")
    expect(page.locator("#export-error")).to_be_visible()
    assert axe_violations(page) == [], "the teacher view with a message"
    watched.assert_clean()


def test_with_an_api_key_the_page_sends_the_key_the_mdt_page_keeps_for_the_tab(
    browser: Browser, app_settings: Settings
) -> None:
    key = "exercise-page-test-key"
    with serve_process(app_settings.model_copy(update={"api_key": key})) as base_url:
        context = browser.new_context(base_url=base_url, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto("/exercises")
            expect(page.locator("#vignette-list")).to_contain_text("asks for an API key")
            page.evaluate(f"sessionStorage.setItem('livermets-api-key', '{key}')")
            page.reload()
            start(page, title_of(base_url, VIGNETTE, {"X-API-Key": key}), "practice")
            box = page.locator("#item-1")
            box.locator("input[type=radio]").first.check()
            box.get_by_role("button", name="Check answer").click()
            expect(box.locator(".feedback .disclaimer")).to_contain_text(DISCLAIMER_WORDS)
            page.get_by_role("tab", name="Teacher").click()
            with page.expect_download() as download_info:
                page.get_by_role("link", name="Printable handout").click()
            assert download_info.value.suggested_filename.endswith(".html")
            assert b"multidisciplinary team (MDT)" in Path(download_info.value.path()).read_bytes()
        finally:
            context.close()


def test_an_answer_the_service_refuses_shows_the_problem_it_names(watched: Watched, live_server: str) -> None:
    """A refusal (a problem document, app/errors.py) is shown beside the item in the service's own words."""
    page = watched.page
    page.goto("/exercises")
    start(page, title_of(live_server, VIGNETTE), "practice")
    item = next(i for i in keyed_items(live_server, VIGNETTE) if i["type"] == "status")
    box = page.locator(f'.item[data-item="{item["id"]}"]')
    # The page's answer rewritten on its way to the real server into a choice the item does not offer,
    # as an out-of-date page could send: the server refuses it.
    page.route(
        "**/answers",
        lambda route: route.continue_(post_data=json.dumps({"mode": "practice", "answers": {item["id"]: "maybe"}})),
    )
    choose(box, keyed_answer(item))
    refused = httpx.post(
        f"{live_server}/v1/exercises/{VIGNETTE}/answers", json={"answers": {item["id"]: "maybe"}}, timeout=60
    )
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    message = refused.json()["errors"][0]["message"]
    box.get_by_role("button", name="Check answer").click()
    expect(box.locator(".field-error")).to_be_visible()
    expect(box.locator(".field-error")).to_contain_text(f"(422: {message})")
    expect(box.locator(".feedback")).to_be_hidden()
    # The browser logs the refused request itself; the page threw nothing and asked no other host.
    assert watched.page_errors == [] and watched.foreign_requests == []
