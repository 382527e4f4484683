"""Exports the JSON Schema of the API and rule-file models to schemas/json/.
Run `make schemas` after changing a model; a test fails while the files are out of date."""

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.case import Case
from schemas.exercise import VignetteFile
from schemas.explanation import Explanation
from schemas.rulebook import CategoriesFile, InvestigationsFile, ParametersFile, RulebookMeta, SourcesFile, TopicFile

OUT_DIR = Path(__file__).resolve().parent / "json"
MODELS: dict[str, type[BaseModel]] = {
    "case.schema.json": Case,
    "explanation.schema.json": Explanation,
    "rule-file.schema.json": TopicFile,
    "categories-file.schema.json": CategoriesFile,
    "parameters-file.schema.json": ParametersFile,
    "investigations-file.schema.json": InvestigationsFile,
    "sources-file.schema.json": SourcesFile,
    "rulebook-file.schema.json": RulebookMeta,
    "vignette-file.schema.json": VignetteFile,
}


def rendered() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, model in MODELS.items():
        schema: dict[str, Any] = model.model_json_schema(mode="serialization" if model is Explanation else "validation")
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote schemas/json/{name}")


if __name__ == "__main__":
    main()
