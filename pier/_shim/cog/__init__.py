"""Pier's stand-in for Cog's Python SDK (the legacy, pre-0.17 predictor contract)."""

from pier.sdk import (
    AsyncConcatenateIterator,
    BaseModel,
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

__version__ = "0.16.12"

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "CancelationException",
    "ConcatenateIterator",
    "File",
    "Input",
    "Path",
    "Scope",
    "Secret",
    "current_scope",
    "emit_metric",
]
