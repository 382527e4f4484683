"""The exported JSON Schema files match the models (run `make schemas` after a change)."""

import json

from schemas.export import OUT_DIR, rendered


def test_exported_json_schemas_are_current() -> None:
    for name, text in rendered().items():
        path = OUT_DIR / name
        assert path.exists(), f"{path} missing: run `make schemas`"
        assert json.loads(path.read_text()) == json.loads(text), f"{name} is stale: run `make schemas`"


def test_rule_file_schema_rejects_unknown_keys() -> None:
    schema = json.loads((OUT_DIR / "rule-file.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["RuleSpec"]["additionalProperties"] is False
