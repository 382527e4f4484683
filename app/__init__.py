"""livermets-explainer: a rule-based, cited explainer of treatment options for liver metastases.

The Python API is `from app import Explainer` (app/api.py); it is imported on first use, so that
importing any other module of the package (the server's launcher, the settings) stays light."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.api import Explainer, InvalidCase

__all__ = ["Explainer", "InvalidCase"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app import api

        return getattr(api, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
