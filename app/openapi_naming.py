"""What a client generator reads well, applied by app/openapi.py to the generated document: short
stable operation ids (`operation_id`, given to FastAPI in create_app), every enum of the models
named once as a component, category and source ids as enums built from the rulebook the app loaded,
and response examples computed by the loaded service itself, so they cannot drift from its answers."""

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, Literal, get_args, get_origin

from fastapi.routing import APIRoute

import schemas.case
import schemas.explanation
import schemas.rulebook
from schemas.explanation import IDS_MARK

# Operation ids that are not the handler's name in camelCase (the default, `operation_id`).
OPERATION_IDS = {
    "explain_batch": "batch",
    "sources": "listSources",
    "categories": "listCategories",
    "rules": "getRulebook",
    "about": "getAbout",
    "healthz": "health",
    "readyz": "ready",
}
# The modules whose `Literal` aliases are the enums of the contract, each named once as a component.
ENUM_MODULES: tuple[ModuleType, ...] = (schemas.case, schemas.explanation, schemas.rulebook)


def operation_id(route: APIRoute) -> str:
    """A short stable id: `explain`, `compare`, `batch`, `listSources`... (FastAPI's default,
    `explain_v1_explain_post`, makes awkward client method names)."""
    name = OPERATION_IDS.get(route.name, route.name)
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def name_for_clients(schema: dict[str, Any], service: Any) -> None:
    """Named enums always; id enums and response examples once the rulebook is loaded (`service`)."""
    _name_enums(schema)
    _name_ids(schema, service)
    if service is not None:
        _response_examples(schema, service)


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            yield path, method, operation


def _literal_enums() -> dict[tuple[Any, ...], str]:
    """Every `Literal` alias of the contract's modules (more than one value), by its values."""
    return {
        get_args(value): name
        for module in ENUM_MODULES
        for name, value in vars(module).items()
        if get_origin(value) is Literal and len(get_args(value)) > 1 and name[0].isupper()
    }


def _replace(node: Any, swap: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Any:
    """`node` with every schema object `swap` returns a replacement for replaced, depth first."""
    if isinstance(node, dict):
        replaced = swap(node)
        if replaced is not None:
            return replaced
        return {key: _replace(value, swap) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace(item, swap) for item in node]
    return node


def _ref_keeping_description(node: dict[str, Any], name: str) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{name}"}
    if "description" in node:
        ref["description"] = node["description"]
    return ref


def _name_enums(schema: dict[str, Any]) -> None:
    """Each enum of the models once, as a component (`PrimarySite`, `Status`...), referenced wherever
    it is used, instead of inline where a generator names it after the place (`CaseKrasStatusType0`)."""
    names = _literal_enums()
    components = schema["components"]["schemas"]
    for values, name in names.items():
        components[name] = {"type": "string", "enum": list(values), "title": name}

    def swap(node: dict[str, Any]) -> dict[str, Any] | None:
        name = names.get(tuple(node.get("enum", ())))
        return None if name is None else _ref_keeping_description(node, name)

    for key, definition in list(components.items()):
        if key not in names.values():
            components[key] = _replace(definition, swap)
    schema["paths"] = _replace(schema["paths"], swap)


def _name_ids(schema: dict[str, Any], service: Any) -> None:
    """Category and source ids: enum components built from the loaded rulebook; plain strings (and a
    document that is not cached) until it is loaded."""
    ids: dict[str, list[str]] = {}
    if service is not None:
        ids = {
            "CategoryId": [c.id for c in service.book.categories],
            "SourceId": list(service.book.sources),
        }
    components = schema["components"]["schemas"]
    for name, values in ids.items():
        components[name] = {"type": "string", "enum": values, "title": name}

    def swap(node: dict[str, Any]) -> dict[str, Any] | None:
        name = node.get(IDS_MARK)
        if not isinstance(name, str):
            return None
        if name in ids:
            return _ref_keeping_description(node, name)
        return {key: value for key, value in node.items() if key != IDS_MARK}

    for key in list(components):
        components[key] = _replace(components[key], swap)


def _response_examples(schema: dict[str, Any], service: Any) -> None:
    """Each body operation's 200 answer to its first request example, computed by the loaded service,
    so the examples cannot drift from what the service answers."""
    from app.routes.batch import document_bytes  # the routes import this module's siblings

    answers: dict[str, Callable[[Any], Any]] = {
        "explain": lambda body: json.loads(service.explain_json(schemas.case.Case.model_validate(body))),
        "compare": lambda body: service.compare(
            schemas.case.Case.model_validate(body["a"]), schemas.case.Case.model_validate(body["b"])
        ).model_dump(mode="json"),
        "batch": lambda body: json.loads(document_bytes(body["cases"], service)),
    }
    for _, _, operation in _operations(schema):
        answer = answers.get(operation.get("operationId", ""))
        examples = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("examples")
        if answer is None or not examples:
            continue
        name, first = next(iter(examples.items()))
        content = operation["responses"]["200"].setdefault("content", {}).setdefault("application/json", {})
        content["examples"] = {name: {"summary": first.get("summary", name), "value": answer(first["value"])}}
