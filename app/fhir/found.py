"""What the mapping reports: problems with the input, inputs not found, and where each value came from.
Plain dataclasses (no web framework): the routes turn them into their own error bodies."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the FHIR input: the resource (`Type/id`, or `entry[i]` / `resource[i]` when it
    has no id) and the element at fault (dotted, `[i]` for list items), and what is wrong."""

    resource: str
    element: str
    message: str
    type: str = "invalid_fhir"

    @property
    def field(self) -> str:
        return f"{self.resource}.{self.element}" if self.element else self.resource


class FhirInputError(Exception):
    """The input is not a readable FHIR Bundle or resource list: each problem names resource and element."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))


@dataclass(frozen=True)
class Missing:
    """A required case input the resources did not give, and what was looked for."""

    field: str
    looked_for: str


def source(reference: str, element: str, note: str | None = None) -> dict[str, str]:
    """One entry of `mapped_from`: the resource a value was read from and the element read."""
    out = {"reference": reference, "element": element}
    if note:
        out["note"] = note
    return out


@dataclass
class Finding:
    """A case value read from the resources (None: not found) with its sources, or a note when nothing
    was read (why it is left unknown, or that it was read from the absence of something)."""

    value: Any = None
    sources: list[dict[str, str]] = field(default_factory=list)
    note: str | None = None

    def provenance(self) -> list[dict[str, str]] | str:
        if self.sources:
            return self.sources
        return self.note or "not found: left unknown"
