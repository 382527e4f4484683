"""The benchmark harness reads wrk's report correctly and sends only valid, distinct cases, so
the figures `make bench` prints mean what they say (the speed itself is measured in bench/)."""

import json

import pytest

from bench import profile, wrk
from bench.cases import MIX, batch_cases
from schemas.case import Case

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


def test_a_wrk_report_is_read_with_units_and_failures() -> None:
    result = wrk.parse(WRK_REPORT)
    assert result == wrk.WrkResult(
        requests=4561, seconds=10.01, rps=455.66, p50_ms=68.5, p99_ms=124.5, errors=2 + 3 + 7
    )
    assert wrk.parse(WRK_REPORT.replace("68.50ms", "950.00us")).p50_ms == pytest.approx(0.95)
    assert wrk.parse(WRK_REPORT.replace("124.50ms", "1.20s")).p99_ms == pytest.approx(1200)


def test_every_benchmark_case_is_valid_and_the_batch_cases_are_distinct() -> None:
    for case in MIX:
        Case.model_validate_json(json.dumps(case))
    cases = batch_cases(1000)
    assert len(cases) == 1000
    assert len({json.dumps(c, sort_keys=True) for c in cases}) == 1000
    for case in cases[:100]:
        Case.model_validate_json(json.dumps(case))


def test_the_lua_body_script_carries_every_body_verbatim() -> None:
    tricky = {"note": "a]]b]=]c"}
    script = wrk.post_script("/v1/explain", [MIX[0], tricky], headers={"X-API-Key": "k"})
    assert "[==[" + json.dumps(tricky) + "]==]" in script
    assert "[[" + json.dumps(MIX[0]) + "]]" in script
    assert "[ [[X-API-Key]] ] = [[k]]" in script


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
