"""What a rule author relies on: every rule file names its JSON Schema for the editor, and the
template of a rule file is itself a valid rule file."""

from pathlib import Path

import yaml

from schemas.export import MODELS
from schemas.rulebook import TopicFile
from tests.conftest import RULES_DIR

SCHEMA_FOR = {
    "categories.yaml": "categories-file.schema.json",
    "parameters.yaml": "parameters-file.schema.json",
    "investigations.yaml": "investigations-file.schema.json",
    "sources.yaml": "sources-file.schema.json",
    "rulebook.yaml": "rulebook-file.schema.json",
}


def schema_line(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0]


def test_every_rule_file_points_editors_at_its_exported_json_schema() -> None:
    files = [*RULES_DIR.glob("*.yaml"), *(RULES_DIR / "topics").glob("*.yaml")]
    for path in files:
        schema = SCHEMA_FOR.get(path.name, "rule-file.schema.json")
        line = schema_line(path)
        assert line.startswith("# yaml-language-server: $schema="), f"{path}: no $schema line first"
        target = (path.parent / line.split("$schema=", 1)[1]).resolve()
        assert target.name == schema and target.is_file(), f"{path}: {line} does not reach {schema}"
        assert schema in MODELS, schema


def test_the_template_is_a_valid_rule_file() -> None:
    TopicFile.model_validate(yaml.safe_load((RULES_DIR / "TEMPLATE.yaml").read_text(encoding="utf-8")))
