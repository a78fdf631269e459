"""The predictor author's surface: the names a model's `predict.py` imports."""

from typing import Any

from pier.sdk.input import Input
from pier.sdk.predictor import BasePredictor
from pier.sdk.scope import current_scope, emit_metric
from pier.sdk.types import (
    AsyncConcatenateIterator,
    CancelationException,
    ConcatenateIterator,
    File,
    Path,
    Secret,
)

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "CancelationException",
    "ConcatenateIterator",
    "File",
    "Input",
    "Path",
    "Secret",
    "current_scope",
    "emit_metric",
]


def __getattr__(name: str) -> Any:
    if name == "BaseModel":  # built on first use, see pier.sdk.types
        from pier.sdk.basemodel import BaseModel

        return BaseModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
