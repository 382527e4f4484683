"""In-process figures: the durable-rules adapter against the pure-Python reference evaluator
(app/reference.py) on the same cases, the other per-case costs of an explanation, so the HTTP
figures can be attributed, and the cost of one explanation with what-if."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app import reference as oracle
from app.engine import RulesEngine
from app.rulebook import Rulebook, load_rulebook
from app.settings import Settings
from app.startup import build_service
from schemas.case import Case
from schemas.explanation import Explanation

_to_json = Explanation.__pydantic_serializer__.to_json


@dataclass(frozen=True)
class InProcess:
    engine_per_s: float
    oracle_per_s: float
    explain_per_s: float  # engine + assembly of the explanation model
    serialise_per_s: float  # explanation model to JSON bytes
    explanation_bytes: float  # mean size of one explanation
    what_if_ms: list[float]  # one explanation with what-if, each case once


def _rate(work: Callable[[Any], object], items: list[Any], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for item in items:
            work(item)
        done += len(items)
    return done / elapsed


def _each_ms(work: Callable[[Any], object], items: list[Any]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        work(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_mean(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), statistics.mean(times)


def measure(cases: list[dict[str, Any]], seconds: float, what_if_cases: list[dict[str, Any]]) -> InProcess:
    """Rates over `cases` (cycled for `seconds` each); what-if timed once per case of `what_if_cases`."""
    settings = Settings()
    book: Rulebook = load_rulebook(settings.rules_dir, settings.seeds_dir)
    engine = RulesEngine(book)
    service = build_service(settings)
    validated = [Case.model_validate(c) for c in cases]
    facts = [c.known_facts() for c in validated]
    for f in facts:  # the two evaluators must agree, or the ratio means nothing
        if engine.evaluate(f) != oracle.evaluate(book, f):
            raise AssertionError(f"engine and oracle disagree on {f}")
    explanations = [service.explain(c) for c in validated]
    return InProcess(
        engine_per_s=_rate(engine.evaluate, facts, seconds),
        oracle_per_s=_rate(lambda f: oracle.evaluate(book, f), facts, seconds),
        explain_per_s=_rate(service.explain, validated, seconds),
        serialise_per_s=_rate(_to_json, explanations, seconds),
        explanation_bytes=sum(len(_to_json(e)) for e in explanations) / len(explanations),
        what_if_ms=_each_ms(
            lambda c: service.explain(c, what_if=True), [Case.model_validate(c) for c in what_if_cases]
        ),
    )
