"""Reads rules/ and validates every file against the models in schemas/rulebook.py, resolves named
parameters, then runs the checks of app.rulebook.checks. Knows nothing of HTTP or of the engine.

Only regular files inside rules/ are opened (a symlink is followed when it ends at a regular file
inside rules/), each under max_file_bytes and all together under max_total_bytes: checked from stat
before anything is read, and again while reading. YAML aliases are refused, so a small file cannot
stand for a huge document, and so is nesting deeper than any rule file needs."""

import os
import stat
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import Event, NodeEvent
from yaml.nodes import Node

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

MAX_FILE_BYTES = 1_048_576
MAX_TOTAL_BYTES = 10_485_760
FIXED_FILES = ("rulebook.yaml", "sources.yaml", "categories.yaml", "parameters.yaml", "investigations.yaml")
_FILE_LIMIT = "the per-file limit of {} bytes (LIVERMETS_RULES_MAX_FILE_BYTES)"
_TOTAL_LIMIT = "the total limit of {} bytes (LIVERMETS_RULES_MAX_TOTAL_BYTES)"
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket"}
# Non-blocking and no symlink at the end: even a file swapped after its check cannot stall the open.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class Limits(NamedTuple):
    file_bytes: int
    total_bytes: int


class RuleFile(NamedTuple):
    """A rule file found to be a regular file inside rules/: its real path and what stat said."""

    path: Path
    size: int
    device: int
    inode: int


class _Refused(Exception):
    """A rule file that cannot be used; the message says why, the caller names the file."""


class YamlRefused(yaml.YAMLError):
    """YAML this loader will not build: an alias, or nesting deeper than any rule file needs."""

    def __init__(self, event: Event, problem: str) -> None:
        line = f"line {event.start_mark.line + 1}: " if event.start_mark else ""
        super().__init__(line + problem)


class RuleFileLoader(yaml.SafeLoader):
    """SafeLoader refusing every alias, so a few hundred bytes cannot stand for a billion strings
    ("billion laughs"; anchors alone are harmless and allowed), and nesting deeper than MAX_DEPTH
    (rule files nest about 6 deep; deeper would exhaust the stack here or in pydantic)."""

    MAX_DEPTH = 50
    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent) or self.depth >= self.MAX_DEPTH:
            event: NodeEvent = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            if isinstance(event, yaml.AliasEvent):
                raise YamlRefused(event, f"YAML aliases (*{event.anchor}) are not allowed")
            raise YamlRefused(event, f"nested more than {self.MAX_DEPTH} levels deep")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_rulebook(
    rules_dir: Path,
    seeds_dir: Path | None,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Rulebook:
    """Load and check the whole rulebook. seeds_dir None skips the verbatim-quote check."""
    root = rules_dir.resolve()
    errors = Errors()
    topic_paths = sorted((root / "topics").glob("*.yaml"))
    if not topic_paths:
        errors.add(str(root / "topics"), "no rule files (*.yaml) found")
    paths = [*(root / name for name in FIXED_FILES), *topic_paths]
    texts = _read_all(paths, root, Limits(max_file_bytes, max_total_bytes), errors)
    meta = _parse(root / "rulebook.yaml", texts, RulebookMeta, root, errors)
    sources_file = _parse(root / "sources.yaml", texts, SourcesFile, root, errors)
    categories_file = _parse(root / "categories.yaml", texts, CategoriesFile, root, errors)
    parameters_file = _parse(root / "parameters.yaml", texts, ParametersFile, root, errors)
    investigations_file = _parse(root / "investigations.yaml", texts, InvestigationsFile, root, errors)
    topics = [(p, _parse(p, texts, TopicFile, root, errors)) for p in topic_paths]
    errors.raise_if_any()

    parameters = {p.id: p for p in parameters_file.parameters}
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, topic in topics:
        file = _shown(path, root)
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


def _shown(path: Path, root: Path) -> str:
    """How messages name a rule file: rules/topics/x.yaml."""
    return str(path.relative_to(root.parent))


def _read_all(paths: list[Path], root: Path, limits: Limits, errors: Errors) -> dict[Path, str]:
    """The text of every rule file that passes; each one that does not is named in errors. Every
    file is checked before any is read, and over the total limit nothing is read at all."""
    found: dict[Path, RuleFile] = {}
    total = 0
    for path in paths:
        checked = _inspect(path, root)
        if isinstance(checked, str):
            errors.add(_shown(path, root), checked)
        elif checked.size > limits.file_bytes:
            errors.add(_shown(path, root), f"{checked.size} bytes, over {_FILE_LIMIT.format(limits.file_bytes)}")
        else:
            found[path] = checked
            total += checked.size
            if total > limits.total_bytes:
                over = f"{total} bytes, over {_TOTAL_LIMIT.format(limits.total_bytes)}"
                errors.add(_shown(path, root), f"{checked.size} bytes, bringing the rule files to {over}")
                return {}
    texts: dict[Path, str] = {}
    left = limits.total_bytes
    for path, checked in found.items():
        try:
            data = _read_bytes(checked, limits, left)
            left -= len(data)
            texts[path] = _decode(data)
        except _Refused as exc:
            errors.add(_shown(path, root), str(exc))
    return texts


def _inspect(path: Path, root: Path) -> RuleFile | str:
    """The regular file inside root that path is, or why it is refused. Opens nothing."""
    try:
        path.lstat()
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return "a symlink to a missing file" if path.is_symlink() else "file is missing"
    except RuntimeError:  # Python 3.11 reports a loop of symlinks so
        return "a symlink that cannot be followed (a loop)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if not real.is_relative_to(root):
        return f"a symlink out of rules/ (to {real})"
    try:
        found = os.lstat(real)
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if stat.S_ISDIR(found.st_mode):
        return "is a directory"
    if not stat.S_ISREG(found.st_mode):
        return f"not a regular file ({_KINDS.get(stat.S_IFMT(found.st_mode), 'of an unknown kind')})"
    return RuleFile(real, found.st_size, found.st_dev, found.st_ino)


def _read_bytes(checked: RuleFile, limits: Limits, left: int) -> bytes:
    """At most one byte more than the file may have, from the very file that was checked."""
    budget = min(limits.file_bytes, left)
    try:
        with os.fdopen(os.open(checked.path, _OPEN_FLAGS), "rb") as file:
            now = os.fstat(file.fileno())
            if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (checked.device, checked.inode):
                raise _Refused("replaced while being read: no longer the regular file that was checked")
            data = file.read(budget + 1)
    except OSError as exc:
        raise _Refused(f"cannot be read: {exc.strerror}") from None
    if len(data) > limits.file_bytes:
        over = _FILE_LIMIT.format(limits.file_bytes)
        raise _Refused(f"more than {limits.file_bytes} bytes when read (stat said {checked.size}), over {over}")
    if len(data) > left:
        raise _Refused(f"grew while being read, taking the rule files over {_TOTAL_LIMIT.format(limits.total_bytes)}")
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _Refused(f"not valid UTF-8 at byte {exc.start} (line {line}): {exc.reason}") from None


def _parse(path: Path, texts: dict[Path, str], model: type[BaseModel], root: Path, errors: Errors) -> Any:
    """The file's content validated against model; None if it could not be read (already named in
    errors) or is not valid."""
    if path not in texts:
        return None
    where = _shown(path, root)
    try:
        data = yaml.load(texts[path], Loader=RuleFileLoader)
    except YamlRefused as exc:
        errors.add(where, str(exc))
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
    value, label = cond.value, None
    if cond.param is not None:
        if cond.param not in parameters:
            errors.add(where, f"unknown parameter {cond.param!r}")
        else:
            value, label = parameters[cond.param].value, parameters[cond.param].label
    return ResolvedCondition(cond.field, cond.op, value, cond.param, cond.fact, label)
