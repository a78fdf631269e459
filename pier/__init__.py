"""Pier: run Cog-format AI models on your own machines, the way Replicate runs them.

`from pier import BasePredictor, Input, Path` is the model author's spelling; this module
re-exports `pier.sdk` only, so importing it stays light (no web framework, no database).
"""

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
