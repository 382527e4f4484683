"""What an evaluation of one case yields, whichever engine produced it."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Evaluation:
    """Which rules fired for one case, and which facts they derived (no order implied)."""

    fired: frozenset[str]
    derived: frozenset[str]


Evaluate = Callable[[dict[str, Any]], Evaluation]
