"""The durable-rules adapter: correct under concurrency, sessions cleaned up, memory flat,
and each known engine crash designed around."""

import random
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from app import reference as oracle
from app.engine import EngineError, RulesEngine
from app.rulebook import Rulebook, load_rulebook
from schemas.case import Case
from tests.conftest import BASE_CASE, RULES_DIR


def _random_cases(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_random_case(rng) for _ in range(n)]


def _random_case(rng: random.Random) -> dict[str, Any]:
    case: dict[str, Any] = {
        "primary_site": rng.choice(["colorectal", "breast", "lung", "ovary", "pancreas", "prostate", "unknown"]),
        "lesion_count": rng.randint(1, 12),
        "largest_lesion_cm": round(rng.uniform(0.3, 12), 1),
        "extrahepatic_disease": rng.choice(["none", "limited", "extensive"]),
        "liver_function": rng.choice(["normal", "impaired", "cirrhosis"]),
        "performance_status": rng.randint(0, 4),
    }
    optional: dict[str, list[Any]] = {
        "symptomatic": [True, False],
        "declines_surgery": [True, False],
        "kras_status": ["mutant", "wild_type"],
        "hormone_receptor_status": ["positive", "negative"],
        "prior_treatments": [[], ["chemotherapy"], ["liver_resection", "chemotherapy"]],
    }
    for name, values in optional.items():
        if rng.random() < 0.6:
            case[name] = rng.choice(values)
    return Case.model_validate(case).known_facts()


@pytest.mark.slow
def test_concurrent_evaluations_equal_sequential_ones(engine: RulesEngine) -> None:
    cases = _random_cases(1600, seed=7)
    sequential = [engine.evaluate(c) for c in cases]
    results: list[Any] = [None] * len(cases)
    errors: list[BaseException] = []

    def worker(start: int) -> None:
        try:
            for i in range(start, len(cases), 8):
                results[i] = engine.evaluate(cases[i])
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == sequential
    assert engine.live_sessions() == 0


@pytest.mark.slow
def test_sessions_are_deleted_so_thousands_of_cases_work(engine: RulesEngine) -> None:
    # Without delete_state the 1,025th live session of a ruleset raises MemoryError.
    facts = Case.model_validate(BASE_CASE).known_facts()
    first = engine.evaluate(facts)
    for _ in range(1500):
        assert engine.evaluate(facts) == first
    assert engine.live_sessions() == 0


def _rss_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc to read resident memory")
def test_memory_does_not_grow_with_cases_evaluated(engine: RulesEngine) -> None:
    cases = _random_cases(500, seed=11)
    for c in cases:
        engine.evaluate(c)
    before = _rss_bytes()
    for _ in range(10):
        for c in cases:
            engine.evaluate(c)
    growth = _rss_bytes() - before
    # A leaked session costs 100-200 KB: 5,000 leaks would be 500 MB or more.
    assert growth < 8 * 1024 * 1024, f"resident memory grew by {growth / 1e6:.1f} MB over 5,000 cases"


NARROW_TOPIC = """
topic: tace
title: one narrow rule
rules:
  - id: tace.not_discussed.extrahepatic
    version: 1
    date: 2026-11-22
    category: tace
    effect: not_discussed
    when:
      - {field: extrahepatic_disease, op: in, value: [limited, extensive]}
    because: The cancer has spread outside the liver.
    cites:
      - source: secondary-liver-cancer-guide
        section: What is the role of chemotherapy in treating liver metastases?
        quote: "TACE can be used in cases when the primary cancer has only spread to the liver."
    examples:
      fires: [{extrahepatic_disease: limited}]
      not_fires: [{extrahepatic_disease: none}]
"""


def _narrow_rulebook(tmp_path: Path, seeds: Path) -> Rulebook:
    """A rulebook with one narrow rule, so most cases fire no rulebook rule at all."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    for path in (rules / "topics").glob("*.yaml"):
        path.unlink()
    (rules / "topics" / "tace.yaml").write_text(NARROW_TOPIC)
    return load_rulebook(rules, seeds)


def test_case_that_fires_no_rule_is_safe_to_clean_up(tmp_path: Path, seeds: Path) -> None:
    # delete_state after a session where nothing fired can free uninitialised memory; the
    # adapter's own catch-all rule means something always fires.
    narrow = _narrow_rulebook(tmp_path, seeds)
    engine = RulesEngine(narrow)
    facts = Case.model_validate(BASE_CASE).known_facts()
    for _ in range(200):
        assert engine.evaluate(facts).fired == frozenset()
    assert engine.live_sessions() == 0


def test_largest_realistic_case_stays_within_engine_limits(engine: RulesEngine, book: Rulebook) -> None:
    # Error 303 comes from more than 64 conditions true at once; this case makes the most rules fire.
    case = Case.model_validate(
        {
            "primary_site": "colorectal",
            "lesion_count": 2,
            "largest_lesion_cm": 2.0,
            "extrahepatic_disease": "none",
            "liver_function": "cirrhosis",
            "performance_status": 4,
            "symptomatic": False,
            "lobar_distribution": "bilobar",
            "primary_tumour_status": "in_place",
            "prior_treatments": ["chemotherapy", "liver_resection", "ablation", "radiotherapy", "embolisation"],
            "kras_status": "mutant",
            "hormone_receptor_status": "positive",
            "declines_surgery": True,
        }
    ).known_facts()
    result = engine.evaluate(case)
    assert result == oracle.evaluate(book, case)
    assert len(result.fired) >= 40


def test_unknown_inputs_match_only_unknown_rules(engine: RulesEngine) -> None:
    # `$nex` alone would also match the engine's own state; the adapter ANDs it with the case.
    known = Case.model_validate({**BASE_CASE, "symptomatic": True}).known_facts()
    unknown = Case.model_validate(BASE_CASE).known_facts()
    assert "monitoring.not_discussed.symptoms_unknown" not in engine.evaluate(known).fired
    assert "monitoring.not_discussed.symptoms_unknown" in engine.evaluate(unknown).fired


def test_failure_mid_session_raises_and_still_deletes_the_session(
    engine: RulesEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failure while the fired rules are read must raise, never return a partial result, and the
    # session must still be deleted: more than 1,024 leaked sessions would make the engine refuse
    # new ones (MemoryError), so 1,100 failures in a row followed by a good evaluation proves it.
    class Exploding(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise KeyError("boom")

    monkeypatch.setattr(engine, "_engine_rules", Exploding())
    facts = Case.model_validate(BASE_CASE).known_facts()
    for _ in range(1100):
        with pytest.raises(EngineError):
            engine.evaluate(facts)
    monkeypatch.undo()
    assert engine.evaluate(facts).fired, "the engine must keep working after failed evaluations"
    assert engine.live_sessions() == 0


def test_numbers_the_engine_cannot_read_are_refused_before_it(engine: RulesEngine) -> None:
    facts = {**Case.model_validate(BASE_CASE).known_facts(), "largest_lesion_cm": 1e-05}
    with pytest.raises(EngineError, match="cannot be passed to the rules engine"):
        engine.evaluate(facts)


def test_failed_assert_reports_its_own_error_and_leaks_nothing(
    engine: RulesEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the guard the engine rejects 1e-05 (error 204) and then has no state to delete (309).
    import app.engine

    monkeypatch.setattr(app.engine, "_check_engine_can_read", lambda facts: None)
    facts = {**Case.model_validate(BASE_CASE).known_facts(), "largest_lesion_cm": 1e-05}
    with pytest.raises(EngineError, match="Could not assert fact"):
        engine.evaluate(facts)
    assert engine.live_sessions() == 0
    monkeypatch.undo()
    assert engine.evaluate(Case.model_validate(BASE_CASE).known_facts()).fired


def test_a_failed_assert_never_reaches_delete_state(engine: RulesEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # If creating a session fails (the 1,025th live session raises MemoryError), delete_state on it
    # would free memory the engine does not own and crash the process: the adapter must not call it.
    import durable_rules_engine

    deleted: list[str] = []
    real_delete = durable_rules_engine.delete_state

    def refuse(handle: Any, fact: str) -> Any:
        raise MemoryError("simulated: no room for another session")

    def record(handle: Any, sid: str) -> Any:
        deleted.append(sid)
        return real_delete(handle, sid)

    monkeypatch.setattr(durable_rules_engine, "assert_fact", refuse)
    monkeypatch.setattr(durable_rules_engine, "delete_state", record)
    facts = Case.model_validate(BASE_CASE).known_facts()
    with pytest.raises(EngineError, match="no room for another session"):
        engine.evaluate(facts)
    assert deleted == []
    monkeypatch.undo()
    assert engine.evaluate(facts).fired, "the engine must keep working after a failed assert"
    assert engine.live_sessions() == 0
