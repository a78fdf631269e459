"""`cog.types`: the input and output types, as older models import them."""

from pier.sdk.input import FieldInfo, Input
from pier.sdk.predictor import Weights
from pier.sdk.types import (
    AsyncConcatenateIterator,
    BaseModel,
    ConcatenateIterator,
    File,
    Path,
    Secret,
)

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "ConcatenateIterator",
    "FieldInfo",
    "File",
    "Input",
    "Path",
    "Secret",
    "Weights",
]
