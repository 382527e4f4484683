"""The only module that imports durable-rules. It compiles the rulebook into one ruleset and
evaluates one case per session.

Design around the engine's known faults (see ../shared/notes/durable-rules.md):
- the stock Host starts timer threads that race with request threads and segfault, so the
  host here never starts them (`_run` is a no-op) and every evaluation runs synchronously;
- `delete_state` on a session where nothing fired can crash, so the adapter adds its own
  catch-all rule that fires for every case;
- sessions that are not deleted leak and the 1,025th live one fails, so every evaluation
  deletes its session in `finally`;
- the C engine is not re-entrant across threads, so one lock serialises evaluations (it never
  releases the GIL anyway, so the lock costs no throughput; scale with worker processes);
- exceptions in actions come back as data, so results are checked and re-raised.
"""

import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from durable import engine as durable_engine

from app.core.evaluation import Evaluation
from app.rulebook import ResolvedCondition, Rule, Rulebook

_SESSION_RULE = "__adapter.session"
_ruleset_names = itertools.count(1)


class EngineError(RuntimeError):
    """The rules engine failed while evaluating a case."""


@dataclass
class _Session:
    fired: set[str] = field(default_factory=set)
    derived: set[str] = field(default_factory=set)


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


def compile_rule(rule: Rule) -> dict[str, Any]:
    """One rule as durable-rules data: the case pattern joined with one pattern per derived fact."""
    tests = [_field_test(c) for c in rule.conditions if c.fact is None]
    patterns: list[dict[str, Any]] = [{"case": _case_pattern(tests)}]
    for i, cond in enumerate(c for c in rule.conditions if c.fact is not None):
        patterns.append({f"fact{i}": {"$and": [{"kind": "derived"}, {"name": cond.fact}]}})
    return {"all": patterns, "run": rule.id}


def _check_engine_can_read(facts: dict[str, Any]) -> None:
    """The engine's JSON reader rejects numbers in exponent form (Python writes 0.00001 as 1e-05),
    so such a value must never reach it; validation keeps case values far from that range."""
    for name, value in facts.items():
        if isinstance(value, float) and ("e" in repr(value) or "n" in repr(value)):
            raise EngineError(f"{name}={value!r} cannot be passed to the rules engine")


class _QuietHost(durable_engine.Host):  # type: ignore[misc]  # untyped C-extension package
    """A host without the background timer threads; actions resolve to this adapter's callbacks."""

    def __init__(self, actions: dict[str, Callable[[Any], None]]) -> None:
        self._actions_by_name = actions
        super().__init__()

    def _run(self) -> None:  # no timers: they race with request threads and crash the process
        return None

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return self._actions_by_name[action_name]


class RulesEngine:
    """The rulebook compiled once into a durable-rules ruleset; `evaluate` is thread-safe."""

    def __init__(self, rulebook: Rulebook) -> None:
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self.ruleset_name = f"livermets_{rulebook.meta.version.replace('.', '_')}_{next(_ruleset_names)}"
        # A rule without conditions holds for every case: asking the engine would only cost an
        # action round-trip (~15 us each, a third of all firings), so it is added to every result.
        self._always = frozenset(r.id for r in rulebook.rules if not r.conditions and r.spec.derives is None)
        engine_rules = [r for r in rulebook.rules if r.id not in self._always]
        definition = {rule.id: compile_rule(rule) for rule in engine_rules}
        definition[_SESSION_RULE] = {"all": [{"case": {"kind": "case"}}], "run": _SESSION_RULE}
        actions = {rule.id: self._action(rule.id, rule.spec.derives) for rule in engine_rules}
        actions[_SESSION_RULE] = lambda c: None
        self._host = _QuietHost(actions)
        self._host.set_rulesets({self.ruleset_name: definition})

    def _action(self, rule_id: str, derives: str | None) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            session = self._sessions[c.s.sid]
            session.fired.add(rule_id)
            # Several rules may derive the same fact; asserting it twice would raise
            # MessageObservedException, so each fact is asserted once per session.
            if derives is not None and derives not in session.derived:
                session.derived.add(derives)
                c.assert_fact({"kind": "derived", "name": derives, "sid": c.s.sid})

        return run

    def evaluate(self, facts: dict[str, Any]) -> Evaluation:
        """Assert one validated case as a fact; forward chaining completes before this returns."""
        _check_engine_can_read(facts)
        sid = uuid.uuid4().hex
        session = _Session()
        with self._lock:
            self._sessions[sid] = session
            asserted = False
            try:
                result = self._host.assert_fact(self.ruleset_name, {**facts, "kind": "case", "sid": sid})
                asserted = True
                if isinstance(result, dict) and "exception" in result:
                    raise EngineError(f"rule action failed: {result['exception']}")
            except EngineError:
                raise
            except Exception as exc:  # the C extension raises bare Exceptions with error codes
                raise EngineError(f"rules engine failed: {exc}") from exc
            finally:
                del self._sessions[sid]
                self._delete_session(sid, must_exist=asserted)
        session.fired.discard(_SESSION_RULE)
        return Evaluation(frozenset(session.fired) | self._always, frozenset(session.derived))

    def _delete_session(self, sid: str, must_exist: bool) -> None:
        try:
            self._host.delete_state(self.ruleset_name, sid)
        except Exception as exc:
            # When the assert itself failed there may be no state to delete (error 309); the
            # assert's own error is the one worth reporting then.
            if must_exist:
                raise EngineError(f"rules engine failed to delete session state: {exc}") from exc

    def live_sessions(self) -> int:
        return len(self._sessions)
