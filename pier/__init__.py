"""Pier: run Cog-format AI models on your own machines, the way Replicate runs them.

`from pier import BasePredictor, Input, Path` is the model author's spelling; this module
re-exports `pier.sdk` only, so importing it stays light (no web framework, no database).
"""

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
