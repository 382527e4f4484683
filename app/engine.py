"""The only module that imports durable-rules. It compiles the rulebook into one ruleset and
evaluates one case per session, calling the extension's C entry points (`durable_rules_engine`)
directly: the package's Python `Host`/`Ruleset` layer (closures, promises, state objects, a JSON
round-trip per fired action) cost about 85% of an evaluation and does nothing this service needs.

Design around the engine's known faults (see ../shared/notes/durable-rules.md):
- the stock Host starts timer threads that race with request threads and segfault; no Host is
  created here at all, so no timer thread exists and every evaluation runs synchronously;
- `delete_state` on a session where nothing fired can crash, so the adapter adds its own
  catch-all rule that fires for every case;
- sessions that are not deleted leak and the 1,025th live one fails, so every evaluation whose
  case was asserted deletes its session in `finally`; one whose assert failed never calls
  `delete_state` (there may be no state, or one where nothing fired: either can crash);
- the C engine is not re-entrant across threads, so one lock serialises evaluations (it never
  releases the GIL anyway, so the lock costs no throughput; scale with worker processes);
- `assert_facts` (several facts in one call) gave wrong results and aborted the process, so one
  fact is asserted per call.

Each rule is compiled to one pattern on the case fact alone: a derived fact it uses is replaced by
the conditions of the rules deriving it, so no second fact is asserted per case (each assert costs
about 11 us; a case derived about four). Rules whose patterns come out the same share one engine
rule, which stands for every rule in it. The reference evaluator (app/reference.py) follows the
rulebook's own chaining, and a property test holds the two to the same answers.
"""

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import durable_rules_engine as _dre

from app.core.evaluation import Evaluation
from app.rulebook import ResolvedCondition, Rule, Rulebook

_SESSION_RULE = "session"
_ruleset_names = itertools.count(1)

# The extension's result codes for an asserted fact (durable/engine.py, Ruleset._handle_result).
_NOT_HANDLED, _OBSERVED = 1, 2


class EngineError(RuntimeError):
    """The rules engine failed while evaluating a case."""


# How each operator of app.rulebook.ops reads in durable-rules (a test checks every operator is here).
# durable-rules has no `$in` (error 202): an `$or` of equalities. `$nex` alone also matches the
# engine's own state object, so every case test is ANDed with kind=case (see _case_pattern).
TRANSLATIONS: dict[str, Callable[[str, Any], dict[str, Any]]] = {
    "eq": lambda name, value: {name: value},
    "ne": lambda name, value: {"$neq": {name: value}},
    "lt": lambda name, value: {"$lt": {name: value}},
    "lte": lambda name, value: {"$lte": {name: value}},
    "gt": lambda name, value: {"$gt": {name: value}},
    "gte": lambda name, value: {"$gte": {name: value}},
    "in": lambda name, value: {"$or": [{name: v} for v in value]} if len(value) > 1 else {name: value[0]},
    "contains": lambda name, value: {"$iany": {name: {"$i": value}}},
    "unknown": lambda name, _: {"$nex": {name: 1}},
}


def _field_test(cond: ResolvedCondition) -> dict[str, Any]:
    translate = TRANSLATIONS.get(cond.op or "")
    if translate is None:
        raise ValueError(f"unsupported op {cond.op!r}")
    return translate(cond.field or "", cond.value)


def _case_pattern(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$and": [{"kind": "case"}, *tests]} if tests else {"kind": "case"}


def _all_of(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$and": tests}


def _case_tests(rule: Rule, derivers: dict[str, list[Rule]]) -> list[dict[str, Any]] | None:
    """The rule's conditions as tests on the case alone: a derived fact becomes the `$or` of the
    conditions of the rules deriving it (followed down to case inputs), so the engine never needs a
    second fact per case. An empty list: the rule holds for every case; None: it can never hold."""
    tests = [_field_test(c) for c in rule.conditions if c.fact is None]
    for cond in rule.conditions:
        if cond.fact is None:
            continue
        branches = [_case_tests(d, derivers) for d in derivers.get(cond.fact, [])]
        possible = [b for b in branches if b is not None]
        if not possible:
            return None
        if any(not b for b in possible):
            continue  # a rule deriving the fact holds for every case
        alternatives = [_all_of(b) for b in possible]
        tests.append(alternatives[0] if len(alternatives) == 1 else {"$or": alternatives})
    return tests


def compile_rule(rule: Rule, derivers: dict[str, list[Rule]]) -> dict[str, Any] | None:
    """One rule as a durable-rules pattern on the case fact (None: no case can satisfy it)."""
    tests = _case_tests(rule, derivers)
    return None if tests is None else {"all": [{"case": _case_pattern(tests)}]}


def derivers_of(book: Rulebook) -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for rule in book.rules:
        if rule.spec.derives:
            out.setdefault(rule.spec.derives, []).append(rule)
    return out


def _check_engine_can_read(facts: dict[str, Any]) -> None:
    """The engine's JSON reader rejects numbers in exponent form (Python writes 0.00001 as 1e-05),
    so such a value must never reach it; validation keeps case values far from that range."""
    for name, value in facts.items():
        if isinstance(value, float) and ("e" in repr(value) or "n" in repr(value)):
            raise EngineError(f"{name}={value!r} cannot be passed to the rules engine")


@dataclass(frozen=True)
class _EngineRule:
    """One engine rule: the rulebook rules it stands for and the facts they derive."""

    rule_ids: frozenset[str]
    derives: tuple[str, ...]


def _group(rules: list[Rule], derivers: dict[str, list[Rule]]) -> dict[str, tuple[dict[str, Any], _EngineRule]]:
    """Rules with the same compiled pattern share one engine rule, named g0, g1, ... in rulebook order."""
    by_pattern: dict[str, list[Rule]] = {}
    for rule in rules:
        pattern = compile_rule(rule, derivers)
        if pattern is not None:
            by_pattern.setdefault(json.dumps(pattern, sort_keys=True), []).append(rule)
    out: dict[str, tuple[dict[str, Any], _EngineRule]] = {}
    for i, (key, group) in enumerate(by_pattern.items()):
        derives = tuple(dict.fromkeys(r.spec.derives for r in group if r.spec.derives))
        out[f"g{i}"] = (json.loads(key), _EngineRule(frozenset(r.id for r in group), derives))
    return out


class RulesEngine:
    """The rulebook compiled once into a durable-rules ruleset; `evaluate` is thread-safe."""

    def __init__(self, rulebook: Rulebook) -> None:
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._live = 0
        self.ruleset_name = f"livermets_{rulebook.meta.version.replace('.', '_')}_{next(_ruleset_names)}"
        # A rule without conditions holds for every case: asking the engine would only cost a firing,
        # so it is added to every result.
        self._always = frozenset(r.id for r in rulebook.rules if not r.conditions and r.spec.derives is None)
        grouped = _group([r for r in rulebook.rules if r.id not in self._always], derivers_of(rulebook))
        self._engine_rules = {name: engine_rule for name, (_, engine_rule) in grouped.items()}
        self._engine_rules[_SESSION_RULE] = _EngineRule(frozenset(), ())
        definition = {name: pattern for name, (pattern, _) in grouped.items()}
        definition[_SESSION_RULE] = {"all": [{"case": {"kind": "case"}}]}
        self.engine_rule_count = len(definition)
        self._handle = _dre.create_ruleset(self.ruleset_name, json.dumps(definition, ensure_ascii=False))

    def evaluate(self, facts: dict[str, Any]) -> Evaluation:
        """Assert one validated case as a fact; forward chaining completes before this returns."""
        _check_engine_can_read(facts)
        fired: set[str] = set()
        derived: set[str] = set()
        with self._lock:
            sid = str(next(self._sids))
            self._live += 1
            asserted = False
            try:
                state = self._assert({**facts, "kind": "case", "sid": sid})
                asserted = True
                action = _dre.start_action_for_state(self._handle, state)
                while action:
                    message: str = action[1] if isinstance(action, tuple) else action
                    engine_rule = self._engine_rules[message[2 : message.index('"', 2)]]  # {"g12": {...}}
                    fired |= engine_rule.rule_ids
                    derived.update(engine_rule.derives)
                    action = _dre.complete_and_start_action(self._handle, state)
            except EngineError:
                raise
            except Exception as exc:  # the C extension raises bare Exceptions with error codes
                raise EngineError(f"rules engine failed: {exc}") from exc
            finally:
                self._live -= 1
                # Only a session whose case was asserted (so the catch-all rule fired) is deleted: when
                # the assert failed there may be no state, or one where nothing fired, and
                # delete_state on either can free memory it does not own and crash the process.
                if asserted:
                    self._delete_session(sid)
        return Evaluation(frozenset(fired) | self._always, frozenset(derived))

    def _assert(self, fact: dict[str, Any]) -> int:
        code, state = _dre.assert_fact(self._handle, json.dumps(fact, ensure_ascii=False))
        if code == _OBSERVED:
            raise EngineError(f"rules engine refused a fact it had already seen: {fact}")
        if code == _NOT_HANDLED:
            raise EngineError("no engine rule matched the case (the adapter's session rule always should)")
        return int(state)

    def _delete_session(self, sid: str) -> None:
        try:
            _dre.delete_state(self._handle, sid)
        except Exception as exc:
            raise EngineError(f"rules engine failed to delete session state: {exc}") from exc

    def live_sessions(self) -> int:
        return self._live
