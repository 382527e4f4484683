"""`depends_on`: which unknown inputs would move a category to the other list, and with which value.

It is part of every explanation, so it evaluates only alternatives that can move a category. At
start-up the rulebook is read for what each status rule (discussed / not_discussed) could react to:
the optional inputs it tests, directly or through the facts it uses, and the values that could make
it fire, or, for an `unknown` test, stop it firing. For a case, an alternative value is evaluated
only when, given the rules that fired, it could turn some category over: a not_discussed rule that
could start firing for a discussed category, a discussed rule that could start firing for a
category nothing sets aside, or every rule holding a category where it is could stop. Each
alternative that passes is re-evaluated by the rules engine, never guessed: on the rules its input
can reach (`field_rulebooks`; every other rule fires as it did for the case), which is a few rules
instead of the whole status rulebook. A test checks the result against evaluating every alternative
on the whole status rulebook."""

from dataclasses import dataclass, field, replace
from typing import Any

from app.core.evaluation import Evaluate, Evaluation
from app.core.explain import STATUS_WORDS, Explainer
from app.core.inputs import choices, shown
from app.rulebook import Rule, Rulebook
from schemas.case import LIST_FIELDS, OPTIONAL_FIELDS, Case, field_label
from schemas.explanation import Dependency, Status

_VALUE_OPS = frozenset({"eq", "in", "contains"})
ANY = None  # "any value of the input may matter"


@dataclass
class _Reach:
    """What could change whether one rule fires: per optional input, the values that could make it
    start firing (ANY for every value), and the inputs whose becoming known could make it stop."""

    start: dict[str, set[Any] | None] = field(default_factory=dict)
    stop: set[str] = field(default_factory=set)
    needs_all: dict[str, set[Any]] = field(default_factory=dict)  # list items the rule itself requires together

    def add_start(self, name: str, values: set[Any] | None) -> None:
        if name in self.start:
            known = self.start[name]
            self.start[name] = None if known is None or values is None else known | values
        else:
            self.start[name] = values

    def merge(self, other: "_Reach") -> None:
        for name, values in other.start.items():
            self.add_start(name, values)
        self.stop |= other.stop

    def may_start(self, name: str, value: Any) -> bool:
        if name not in self.start:
            return False
        if isinstance(value, list) and not self.needs_all.get(name, set()) <= set(value):
            return False
        values = self.start[name]
        if values is None:
            return True
        items = value if isinstance(value, list) else [value]
        return any(_key(v) in values for v in items)


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _reaches(book: Rulebook) -> dict[str, _Reach]:
    """Every rule's reach, facts followed to the rules that derive them (a fact derived by several
    rules reaches what any of them reaches: an over-approximation, which only costs an evaluation)."""
    memo: dict[str, _Reach] = {}
    derivers: dict[str, list[Rule]] = {}
    for rule in book.rules:
        if rule.spec.derives:
            derivers.setdefault(rule.spec.derives, []).append(rule)

    def reach(rule: Rule) -> _Reach:
        if rule.id in memo:
            return memo[rule.id]
        out = memo[rule.id] = _Reach()  # derived facts form no cycle (checked at load)
        for cond in rule.conditions:
            if cond.fact is not None:
                for deriver in derivers.get(cond.fact, []):
                    out.merge(reach(deriver))
            elif cond.field in OPTIONAL_FIELDS:
                if cond.op == "unknown":
                    out.stop.add(cond.field)
                elif cond.op in _VALUE_OPS:
                    out.add_start(cond.field, {_key(v) for v in (cond.value if cond.op == "in" else [cond.value])})
                    if cond.op == "contains":
                        out.needs_all.setdefault(cond.field, set()).add(cond.value)
                else:
                    out.add_start(cond.field, ANY)
        return out

    return {rule.id: reach(rule) for rule in book.rules}


def alternatives(reaches: dict[str, _Reach], status_rules: list[Rule]) -> dict[str, list[Any]]:
    """For every optional input that a status rule reacts to: the values worth trying when it is unknown."""
    wanted: dict[str, set[Any] | None] = {}
    for rule in status_rules:
        r = reaches[rule.id]
        for name in r.stop:
            wanted[name] = ANY
        for name, values in r.start.items():
            if name in wanted and wanted[name] is None:
                continue
            wanted[name] = None if values is None else (wanted.get(name) or set()) | values
    out: dict[str, list[Any]] = {}
    for name in OPTIONAL_FIELDS:  # contract order
        if name not in wanted:
            continue
        values = wanted[name]
        if name in LIST_FIELDS:
            items = [v for v in choices(name) if values is None or v in values]
            out[name] = ([[]] if values is None else []) + [[i] for i in items] + ([items] if len(items) > 1 else [])
        else:
            out[name] = [v for v in choices(name) if values is None or v in values]
    return out


def status_rulebook(book: Rulebook) -> Rulebook:
    """The rules that decide which list each category is in (discussed / not_discussed) and the rules
    deriving the facts they use: all that a partition needs. An engine compiled from it evaluates an
    alternative about twice as fast as the whole rulebook, whose presentation rules `depends_on`
    never shows (a test checks both partition every case alike)."""
    return _with_derivers(book, [r for r in book.rules if r.spec.effect in ("discussed", "not_discussed")])


def _with_derivers(book: Rulebook, chosen: list[Rule]) -> Rulebook:
    """The chosen rules and every rule deriving a fact they use (followed down), in rulebook order."""
    chosen = list(chosen)
    needed = {c.fact for r in chosen for c in r.conditions if c.fact}
    while True:
        derivers = [r for r in book.rules if r.spec.derives in needed and r not in chosen]
        if not derivers:
            return replace(book, rules=tuple(r for r in book.rules if r in chosen))
        chosen += derivers
        needed |= {c.fact for r in derivers for c in r.conditions if c.fact}


def field_rulebooks(book: Rulebook) -> dict[str, Rulebook]:
    """Per optional input, the status rules whose firing can change when that input becomes known
    (their reach, above) and the rules deriving the facts they use. When only that input differs from
    the case, every other rule fires as it did for the case, so an engine compiled from this smaller
    rulebook evaluates an alternative in a fraction of the time (a test checks the answers against
    evaluating every alternative on the whole status rulebook)."""
    reach = _reaches(book)
    status = [r for r in book.rules if r.spec.effect in ("discussed", "not_discussed")]
    out: dict[str, Rulebook] = {}
    for name in OPTIONAL_FIELDS:
        moved = [r for r in status if name in reach[r.id].start or name in reach[r.id].stop]
        if moved:
            out[name] = _with_derivers(book, moved)
    return out


class DependencyFinder:
    def __init__(
        self,
        book: Rulebook,
        explainer: Explainer,
        evaluate: Evaluate,
        evaluate_by_field: dict[str, tuple[Rulebook, Evaluate]] | None = None,
    ) -> None:
        """`evaluate` need only decide the partition right: the whole rulebook's engine, or one compiled
        from `status_rulebook(book)`. `evaluate_by_field`: per input, an evaluator of its rulebook from
        `field_rulebooks(book)` (with that rulebook), used for its alternatives when pruning."""
        self.explainer = explainer
        self.evaluate = evaluate
        self._by_field = {
            name: (frozenset(r.id for r in sub.rules), sub_evaluate)
            for name, (sub, sub_evaluate) in (evaluate_by_field or {}).items()
        }
        self._reach = _reaches(book)
        self._status_rules: dict[str, dict[str, list[Rule]]] = {}
        for cat in book.categories:
            rules = [r for r in book.rules if r.spec.category == cat.id]
            self._status_rules[cat.id] = {
                "discussed": [r for r in rules if r.spec.effect == "discussed"],
                "not_discussed": [r for r in rules if r.spec.effect == "not_discussed"],
            }
        self.alternatives = alternatives(
            self._reach, [r for by_effect in self._status_rules.values() for rs in by_effect.values() for r in rs]
        )
        # The reach read once into sets, so deciding whether an alternative may move a category is a
        # few set operations on the fired rules: per category, the ids of its discussed and
        # not_discussed rules; per input, the rules its becoming known could stop; per alternative
        # value, the rules it could start.
        self._ids = {
            cat: (frozenset(r.id for r in by["discussed"]), frozenset(r.id for r in by["not_discussed"]))
            for cat, by in self._status_rules.items()
        }
        self._stoppers = {
            name: frozenset(r for r, reach in self._reach.items() if name in reach.stop) for name in self.alternatives
        }
        self._starters: dict[str, list[tuple[Any, frozenset[str], tuple[str, ...]]]] = {}
        for name, values in self.alternatives.items():
            self._starters[name] = []
            for value in values:
                starters = frozenset(r for r, reach in self._reach.items() if reach.may_start(name, value))
                # A category can move only if one of its status rules could start or stop.
                touched = starters | self._stoppers[name]
                cats = tuple(c for c, (d, nd) in self._ids.items() if not touched.isdisjoint(d | nd))
                self._starters[name].append((value, starters, cats))

    def _may_move(
        self, category: str, status: Status, fired: frozenset[str], stoppers: frozenset[str], starters: frozenset[str]
    ) -> bool:
        discussed_ids, not_discussed_ids = self._ids[category]
        if status == "discussed":
            if fired & discussed_ids <= stoppers:
                return True  # every rule discussing it could stop firing
            return not starters.isdisjoint(not_discussed_ids)  # a rule setting it aside could start
        # Not discussed: it moves only if every not_discussed rule that fired could stop, and some
        # discussed rule would then fire (one that fired and need not stop, or one that could start).
        if not fired & not_discussed_ids <= stoppers:
            return False
        return bool((fired & discussed_ids) - stoppers) or not starters.isdisjoint(discussed_ids)

    def find(self, case: Case, evaluation: Evaluation, prune: bool = True) -> dict[str, list[Dependency]]:
        """`prune=False` evaluates every alternative: the reference the pruning is tested against."""
        now = self.explainer.partition(evaluation.fired)
        found: dict[str, list[Dependency]] = {}
        known: dict[str, Any] | None = None
        fired = evaluation.fired
        for name in case.unknown_inputs():
            stoppers = self._stoppers.get(name, frozenset())
            for value, starters, cats in self._starters.get(name, ()):
                # Every move needs a rule that could start, or a fired rule that could stop.
                if prune and (
                    (not starters and stoppers.isdisjoint(fired))
                    or not any(self._may_move(c, now[c], fired, stoppers, starters) for c in cats)
                ):
                    continue
                # Every alternative is a value the Case model accepts for an input that is unknown, so
                # the changed case's facts are the known ones plus it (no second validation).
                known = case.known_facts() if known is None else known
                facts = {**known, name: value}
                if prune and name in self._by_field:
                    # Only the rules this input can reach may fire differently: evaluate those.
                    reached, evaluate = self._by_field[name]
                    changed = (fired - reached) | evaluate(facts).fired
                else:
                    changed = self.evaluate(facts).fired
                for category, status in self.explainer.partition(changed).items():
                    if status != now[category]:
                        label = self.explainer.labels[category]
                        found.setdefault(category, []).append(
                            Dependency(
                                field=name,
                                value=value,
                                would_be=status,
                                statement=f"{label} would be {STATUS_WORDS[status]} if {field_label(name)} were "
                                f"{shown(value)} (now unknown).",
                            )
                        )
        return found
