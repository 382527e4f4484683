"""Reads rules/ and validates every file against the models in schemas/rulebook.py, resolves named
parameters, then runs the checks of app.rulebook.checks. Knows nothing of HTTP or of the engine."""

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.rulebook.checks import Errors, check_citations, check_rulebook
from app.rulebook.model import ResolvedCondition, Rule, Rulebook
from schemas.rulebook import (
    CategoriesFile,
    Condition,
    InvestigationsFile,
    ParametersFile,
    ParameterSpec,
    RulebookMeta,
    SourcesFile,
    TopicFile,
)


def load_rulebook(rules_dir: Path, seeds_dir: Path | None) -> Rulebook:
    """Load and check the whole rulebook. seeds_dir None skips the verbatim-quote check."""
    root = rules_dir.resolve()
    errors = Errors()
    meta = _read(root / "rulebook.yaml", RulebookMeta, root, errors)
    sources_file = _read(root / "sources.yaml", SourcesFile, root, errors)
    categories_file = _read(root / "categories.yaml", CategoriesFile, root, errors)
    parameters_file = _read(root / "parameters.yaml", ParametersFile, root, errors)
    investigations_file = _read(root / "investigations.yaml", InvestigationsFile, root, errors)
    topic_paths = sorted((root / "topics").glob("*.yaml"))
    if not topic_paths:
        errors.add(str(root / "topics"), "no rule files (*.yaml) found")
    topics = [(p, _read(p, TopicFile, root, errors)) for p in topic_paths]
    errors.raise_if_any()

    parameters = {p.id: p for p in parameters_file.parameters}
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, topic in topics:
        file = str(path.relative_to(root.parent))
        for spec in topic.rules:
            where = f"{file}: rule {spec.id}"
            if spec.id in seen:
                errors.add(where, f"duplicate rule id (also in {seen[spec.id]})")
            seen[spec.id] = file
            conditions = tuple(_resolve(c, parameters, where, errors) for c in spec.when)
            rules.append(Rule(spec=spec, file=file, conditions=conditions))

    book = Rulebook(
        meta=meta,
        sources={s.id: s for s in sources_file.sources},
        categories=tuple(categories_file.categories),
        parameters=parameters,
        investigations=tuple(investigations_file.investigations),
        rules=tuple(rules),
    )
    check_rulebook(book, errors)
    errors.raise_if_any()
    if seeds_dir is not None:
        check_citations(book, seeds_dir, errors)
        errors.raise_if_any()
    return book


def _read(path: Path, model: type[BaseModel], root: Path, errors: Errors) -> Any:
    where = str(path.relative_to(root.parent))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.add(where, "file is missing")
        return None
    except yaml.YAMLError as exc:
        errors.add(where, f"not valid YAML: {exc}")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            rule = _rule_named_at(data, loc)
            place = ".".join(str(p) for p in loc)
            errors.add(f"{where}{rule}", f"{place}: {err['msg']}")
        return None


def _rule_named_at(data: Any, loc: list[Any]) -> str:
    """Name the rule an error sits in, so a reviewer can find it."""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            return f": rule {data['rules'][loc[1]].get('id', '#' + str(loc[1]))}"
        except (KeyError, IndexError, TypeError, AttributeError):
            return f": rule #{loc[1]}"
    return ""


def _resolve(cond: Condition, parameters: dict[str, ParameterSpec], where: str, errors: Errors) -> ResolvedCondition:
    value = cond.value
    if cond.param is not None:
        if cond.param not in parameters:
            errors.add(where, f"unknown parameter {cond.param!r}")
        else:
            value = parameters[cond.param].value
    return ResolvedCondition(cond.field, cond.op, value, cond.param, cond.fact)
