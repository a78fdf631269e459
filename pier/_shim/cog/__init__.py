"""Pier's stand-in for Cog's Python SDK (the legacy, pre-0.17 predictor contract)."""

from typing import Any

from pier.sdk import (
    AsyncConcatenateIterator,
    BasePredictor,
    CancelationException,
    ConcatenateIterator,
    File,
    Input,
    Path,
    Secret,
    current_scope,
    emit_metric,
)
from pier.sdk.scope import Scope
from pier.sdk.types import ExperimentalFeatureWarning

__version__ = "0.16.12"

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "CancelationException",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "File",
    "Input",
    "Path",
    "Scope",
    "Secret",
    "current_scope",
    "emit_metric",
]


def __getattr__(name: str) -> Any:
    if name == "BaseModel":  # built on first use, see pier.sdk.types
        from pier.sdk.basemodel import BaseModel

        return BaseModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
