"""The benchmark harness reads wrk's report correctly, sends only valid, distinct cases that cover the
whole input space (every input known and unknown, every value, both sides of every threshold), and
its table judges each target correctly, so the figures `make bench` prints mean what they say (the
speed itself is measured in bench/; nothing here times anything or needs wrk)."""

import dataclasses
import json
from typing import Any

import httpx
import pytest

from app.core.inputs import NUMERIC_STEP, bounds, choices, is_whole_number
from app.rulebook import ResolvedCondition, Rule, Rulebook
from bench import cases, profile, run, server, wrk
from schemas.case import LIST_FIELDS, NUMERIC_FIELDS, OPTIONAL_FIELDS, Case

WRK_REPORT = """Running 10s test @ http://127.0.0.1:8000/v1/explain
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    70.12ms    9.01ms 180.33ms   91.02%
    Req/Sec   456.12     40.10   520.00     70.00%
  Latency Distribution
     50%   68.50ms
     75%   72.00ms
     90%   80.10ms
     99%  124.50ms
  4561 requests in 10.01s, 223.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    455.66
Transfer/sec:     22.29MB
"""

N = 600  # enough for every value of every input; the generator is fast


@pytest.fixture(scope="module")
def generated() -> list[dict[str, Any]]:
    return cases.generate(N, seed=11)


def test_a_wrk_report_is_read_with_units_and_failures() -> None:
    result = wrk.parse(WRK_REPORT)
    assert result == wrk.WrkResult(
        requests=4561, seconds=10.01, rps=455.66, p50_ms=68.5, p99_ms=124.5, errors=2 + 3 + 7
    )
    assert wrk.parse(WRK_REPORT.replace("68.50ms", "950.00us")).p50_ms == pytest.approx(0.95)
    assert wrk.parse(WRK_REPORT.replace("124.50ms", "1.20s")).p99_ms == pytest.approx(1200)


def test_the_lua_body_script_carries_every_body_verbatim() -> None:
    case = cases.generate(1, seed=1)[0]
    tricky = {"note": "a]]b]=]c"}
    script = wrk.post_script("/v1/explain", [case, tricky], headers={"X-API-Key": "k"})
    assert "[==[" + json.dumps(tricky) + "]==]" in script
    assert "[[" + json.dumps(case) + "]]" in script
    assert "[ [[X-API-Key]] ] = [[k]]" in script


def test_the_body_file_holds_one_body_a_line_for_the_file_script(tmp_path: Any) -> None:
    bodies = [*cases.generate(50, seed=2), {"note": "a\nb"}]
    path = wrk.write_bodies(tmp_path / "bodies.ndjson", bodies)
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == bodies
    assert all(line for line in lines)
    # The script reads the file and the offset named after `--`, and posts to the URL's own path.
    assert "io.lines(args[1])" in wrk.FILE_SCRIPT
    assert "tonumber(args[2])" in wrk.FILE_SCRIPT
    assert 'wrk.format("POST", nil, headers, bodies[i])' in wrk.FILE_SCRIPT


def test_the_generator_gives_n_distinct_valid_cases(generated: list[dict[str, Any]]) -> None:
    assert len(generated) == N
    assert len({cases.canonical(c) for c in generated}) == N
    for case in generated:
        Case.model_validate(case)
        Case.model_validate_json(json.dumps(case))  # as the server reads it


def test_the_generator_is_deterministic_for_a_seed_and_prefix_stable(generated: list[dict[str, Any]]) -> None:
    assert cases.generate(N, seed=11) == generated
    assert cases.generate(100, seed=11) == generated[:100]
    assert cases.generate(100, seed=12) != generated[:100]


def test_every_primary_site_comes_up_in_the_first_round_and_equally_often(generated: list[dict[str, Any]]) -> None:
    sites = choices("primary_site")
    assert {c["primary_site"] for c in generated[: len(sites)]} == set(sites)
    counts = [sum(1 for c in generated if c["primary_site"] == site) for site in sites]
    assert max(counts) - min(counts) <= 1


def test_every_input_is_sent_and_every_optional_one_is_also_left_out(generated: list[dict[str, Any]]) -> None:
    for name, info in Case.model_fields.items():
        assert any(name in c for c in generated), f"{name} never known"
        if info.is_required():
            assert all(name in c for c in generated), f"{name} missing"
    for name in OPTIONAL_FIELDS:
        assert any(name not in c for c in generated), f"{name} never unknown"
    assert any(all(name in c for name in OPTIONAL_FIELDS) for c in generated), "no fully known case"


def test_every_value_of_every_categorical_input_and_list_item_is_sent(generated: list[dict[str, Any]]) -> None:
    for name in Case.model_fields:
        if name in NUMERIC_FIELDS:
            continue
        sent: set[Any] = set()
        for c in generated:
            if name in c:
                sent.update(c[name] if name in LIST_FIELDS else [c[name]])
        assert sent == set(choices(name)), name
        if name in LIST_FIELDS:
            assert any(c.get(name) == [] for c in generated), f"{name}: never the empty list (none)"


def test_numeric_inputs_are_sent_on_both_sides_of_every_rulebook_threshold(generated: list[dict[str, Any]]) -> None:
    found = cases.thresholds(cases.rulebook())
    assert found["largest_lesion_cm"] == [3]  # small_lesion_below_cm, read from rules/parameters.yaml
    assert sum(len(v) for v in found.values()) >= 3
    for name, values in found.items():
        sent = {c[name] for c in generated if name in c}
        low, high = bounds(name)
        for t in values:  # a side exists unless the threshold is the contract's bound (lesion_count > 1)
            assert t <= low or any(v < t for v in sent), f"{name}: nothing below {t}"
            assert t in sent, f"{name}: never exactly {t}"
            assert t >= high or any(v > t for v in sent), f"{name}: nothing above {t}"
            assert t - NUMERIC_STEP[name] in sent or t <= low, f"{name}: never one step below {t}"
            assert t + NUMERIC_STEP[name] in sent or t >= high, f"{name}: never one step above {t}"
        # and more than the edges: uniform values within the contract's bounds (where there are others)
        edges = set(cases.edge_values(cases.rulebook())[name])
        if not is_whole_number(name) or len(edges) < high - low + 1:
            assert sent - edges, f"{name}: only threshold and bound values"


def test_a_new_threshold_in_the_rulebook_is_in_the_traffic_without_a_change_here() -> None:
    book = cases.rulebook()
    spec = book.rules[0].spec.model_copy(update={"id": "bench-harness-new-threshold"})
    new = Rule(spec=spec, file="test", conditions=(ResolvedCondition("lesion_count", "gte", 7, None, None),))
    changed: Rulebook = dataclasses.replace(book, rules=(*book.rules, new))
    assert 7 in cases.thresholds(changed)["lesion_count"]
    assert {6, 7, 8} <= set(cases.edge_values(changed)["lesion_count"])
    sent = {c.get("lesion_count") for c in cases.generate(300, seed=3, book=changed)}
    assert {6, 7, 8} <= sent


def test_variety_counts_distinct_cases_and_fired_rule_sets(generated: list[dict[str, Any]]) -> None:
    some = generated[:200]
    fired = cases.fired_sets(some)
    text = cases.variety(some)
    assert text.startswith(f"200 distinct cases, {len(set(fired)):,} distinct fired-rule sets")
    assert len(set(fired)) > 50  # the traffic is varied, not a handful of repeated answers
    assert "per primary site: " in text


def test_the_traffic_slices_are_disjoint_and_sized() -> None:
    sizes = run.Sizes(1, 30, 10, 5, 0, 0, 20, 4, 3, full=False)
    traffic = run.Traffic.make(sizes, seed=5)
    slices = [traffic.explain, traffic.in_process, traffic.what_if, traffic.sequential, traffic.soak, *traffic.batches]
    assert [len(s) for s in slices] == [30, 10, 5, 5, 20, 4, 4, 4, 4, 4, 4]
    keys = [cases.canonical(c) for s in slices for c in s]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    ("goal", "value", "met"),
    [
        (run.Goal(">=", 0.5, ">= 0.5"), 0.5, True),
        (run.Goal(">=", 0.5, ">= 0.5"), 0.499, False),
        (run.Goal("<", 35, "p99 < 35 ms"), 34.9, True),
        (run.Goal("<", 35, "p99 < 35 ms"), 35, False),
        (run.Goal("<=", 10, "median <= 10 ms"), 10, True),
        (run.Goal("<=", 10, "median <= 10 ms"), 10.1, False),
        (run.Goal(">=", 1.7, ">= 1.7 x one process"), 1.69, False),
    ],
)
def test_the_table_marks_a_target_met_or_not(goal: run.Goal, value: float, met: bool) -> None:
    row = run.judged("figure", value, f"{value}", goal)
    assert row.met is met
    assert row.cells() == ["figure", f"{value}", goal.text, "yes" if met else "NO"]


def test_a_figure_not_measurable_here_reads_n_a_and_is_not_met() -> None:
    row = run.judged("NDJSON batch", None, "not available: answered 200 application/json", run.Goal(">=", 3000, "x"))
    assert row.cells() == ["NDJSON batch", "n/a (not available: answered 200 application/json)", "x", "NO"]
    unjudged = run.judged("growth", 3.0, "+3.0 MiB", run.Goal("<", 15, "< 15 MiB"), judge=False)
    assert unjudged.cells() == ["growth", "+3.0 MiB", "< 15 MiB", ""]
    lines = run.table([row, unjudged, run.Row("plain", "1 /s")]).splitlines()
    assert [cell.strip() for cell in lines[0].split("|")[1:-1]] == ["figure", "measured", "target", "met"]
    assert [[cell.strip() for cell in line.split("|")[1:-1]][3] for line in lines[2:]] == ["NO", "", ""]


def test_without_the_launcher_the_two_process_rows_read_n_a(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "launcher_available", lambda: False)
    traffic = run.Traffic.make(run.Sizes(1, 3, 1, 2, 0, 0, 1, 1, 1, full=False), seed=1)
    rows = run.two_process_rows(traffic, run.QUICK)
    assert all(r.value.startswith("n/a (not available") for r in rows)
    assert [r.met for r in rows if r.target] == [False, False]


def _mock(handler: Any) -> httpx.Client:
    return httpx.Client(base_url="http://bench", transport=httpx.MockTransport(handler))


def test_the_batch_answers_are_read_whole_and_checked() -> None:
    batch = cases.generate(3, seed=4)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("accept") == run.NDJSON:
            lines = len(json.loads(request.content)["cases"])
            body = b"".join(b'{"index":%d,"status":"ok"}\n' % i for i in range(lines))
            return httpx.Response(200, content=body, headers={"content-type": run.NDJSON})
        return httpx.Response(200, json={"count": 3, "explained": 3, "invalid": 0, "results": []})

    with _mock(answer) as client:
        assert run.batch_json_s(client, batch) >= 0
        assert run.batch_ndjson_s(client, batch) >= 0
        with pytest.raises(run.Failed, match="3 of 2 cases explained"):
            run.batch_json_s(client, batch[:2])

    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{}\n{}\n", headers={"content-type": run.NDJSON + "; charset=utf-8"})

    with _mock(short) as client, pytest.raises(run.NotAvailable, match="2 lines for 3 cases"):
        run.batch_ndjson_s(client, batch)


def test_a_server_that_ignores_the_ndjson_accept_header_makes_the_row_n_a() -> None:
    def json_only(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"count": 1, "explained": 1, "invalid": 0, "results": []})

    with _mock(json_only) as client, pytest.raises(run.NotAvailable, match="answered 200 application/json"):
        run.batch_ndjson_s(client, cases.generate(1, seed=4))


def test_profile_samples_are_put_in_the_innermost_named_bucket() -> None:
    raw = "\n".join(
        [
            "run (uvicorn);ExplainerService.explain (app/core/service.py:20);RulesEngine.evaluate (app/engine.py:9) 5",
            "run (uvicorn);ExplainerService.explain (app/core/service.py:20);Explainer.explain (app/core/x.py:3) 3",
            "run (uvicorn);serialize_response (fastapi/routing.py:1) 2",
            "run (uvicorn);select (selectors.py:1) 1",
        ]
    )
    counts = profile.summarise(raw)
    assert counts["rules engine (app/engine.py + durable-rules)"] == 5
    assert counts["explanation assembly (app/core)"] == 3
    assert counts["response validation + JSON serialisation"] == 2
    assert counts[profile.REST] == 1
