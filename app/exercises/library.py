"""Reads exercises/vignettes/*.yaml (or LIVERMETS_EXERCISES_DIR) into validated vignettes, checked the way
rule files are: only regular files, size-bounded, YAML without aliases, every field by the VignetteFile
model (unknown keys refused), the id equal to the file name, every rule id and source known, every quote
verbatim in its document, no directive wording. Each problem names the file and the field; all are
reported at once. A vignette's `expect` is not compared with the engine here (tests/test_vignettes.py
does), so a rule change that moves an exercise's key never stops the service."""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from app.citations import SourceTexts
from app.rulebook import Rulebook, RulebookError
from app.rulebook.checks import FORBIDDEN_WORDING, Errors
from app.rulebook.load import RuleFileLoader, YamlRefused
from schemas.exercise import VignetteFile

MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 500


class ExerciseLibraryError(RulebookError):
    """The vignette files cannot be used; the message names every file and field at fault."""


@dataclass(frozen=True)
class Library:
    vignettes: dict[str, VignetteFile]  # by id, in file-name order
    folder: Path | None


def load_library(folder: Path, book: Rulebook, seeds_dir: Path | None) -> Library:
    """Every vignette in folder, checked against the loaded rulebook. A missing folder is an empty library
    (the service runs without exercises); a present but invalid file stops start-up with its name."""
    if not folder.is_dir():
        return Library({}, None)
    root = folder.resolve()
    errors = Errors()
    paths = sorted(root.glob("*.yaml"))
    if len(paths) > MAX_FILES:
        errors.add(str(folder), f"{len(paths)} vignette files, more than {MAX_FILES}")
        _raise_if_any(errors)
    texts = SourceTexts(seeds_dir, book.sources) if seeds_dir is not None else None
    found: dict[str, VignetteFile] = {}
    for path in paths:
        where = f"{folder.name}/{path.name}"
        vignette = _parse(path, root, where, errors)
        if vignette is None:
            continue
        _check(vignette, path.stem, book, texts, where, errors)
        found[vignette.id] = vignette
    _raise_if_any(errors)
    return Library(found, root)


def _raise_if_any(errors: Errors) -> None:
    if errors.lines:
        raise ExerciseLibraryError("invalid exercise library:\n  " + "\n  ".join(errors.lines))


def _parse(path: Path, root: Path, where: str, errors: Errors) -> VignetteFile | None:
    try:
        real = path.resolve(strict=True)
        info = os.stat(real)
    except (OSError, RuntimeError) as exc:
        errors.add(where, f"cannot be read: {exc}")
        return None
    if not real.is_relative_to(root) or not stat.S_ISREG(info.st_mode):
        errors.add(where, "not a regular file inside the vignette folder")
        return None
    if info.st_size > MAX_FILE_BYTES:
        errors.add(where, f"{info.st_size} bytes, over the limit of {MAX_FILE_BYTES}")
        return None
    try:
        data = yaml.load(real.read_bytes()[: MAX_FILE_BYTES + 1].decode("utf-8"), Loader=RuleFileLoader)
    except UnicodeDecodeError as exc:
        errors.add(where, f"not valid UTF-8 at byte {exc.start}")
        return None
    except YamlRefused as exc:
        errors.add(where, str(exc))
        return None
    except yaml.YAMLError as exc:
        errors.add(where, f"not valid YAML: {exc}")
        return None
    try:
        return VignetteFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.add(where, f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}")
        return None


def _check(
    vignette: VignetteFile, stem: str, book: Rulebook, texts: SourceTexts | None, where: str, errors: Errors
) -> None:
    if vignette.id != stem:
        errors.add(where, f"id: {vignette.id!r} differs from the file name {stem!r}")
    for i, rule in enumerate(vignette.rules):
        if not book.has_rule(rule):
            errors.add(where, f"rules.{i}: unknown rule {rule!r}")
    categories = {c.id for c in book.categories}
    for category in vignette.expect:
        if category not in categories:
            errors.add(where, f"expect.{category}: unknown category")
    for i, cite in enumerate(vignette.sources):
        if cite.source not in book.sources:
            errors.add(where, f"sources.{i}.source: unknown source {cite.source!r}")
            continue
        if texts is not None:
            problem = texts.quote_problem(cite.source, cite.quote)
            if problem is None and cite.section is not None and texts.quote_problem(cite.source, cite.section):
                problem = f"section heading not found in {cite.source!r}: {cite.section!r}"
            if problem is not None:
                errors.add(where, f"sources.{i}.quote: {problem}")
    learner_text = [("title", vignette.title), ("story", vignette.story)]
    learner_text += [(f"objectives.{i}", text) for i, text in enumerate(vignette.objectives)]
    for field, text in learner_text:
        match = FORBIDDEN_WORDING.search(text)
        if match:
            errors.add(where, f"{field}: directive wording {match.group(0)!r}; say 'commonly discussed' instead")
