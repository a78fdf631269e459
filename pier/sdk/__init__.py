"""The predictor author's surface: the names a model's `predict.py` imports."""

from pier.sdk.input import Input
from pier.sdk.predictor import BasePredictor
from pier.sdk.scope import current_scope, emit_metric
from pier.sdk.types import (
    AsyncConcatenateIterator,
    BaseModel,
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
