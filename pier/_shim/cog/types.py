"""`cog.types`: the input and output types, as older models import them."""

from typing import Any

from pier.sdk.input import FieldInfo, Input
from pier.sdk.predictor import Weights
from pier.sdk.types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    ExperimentalFeatureWarning,
    File,
    Path,
    Secret,
)

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",  # noqa: F822 - provided by __getattr__ below
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "FieldInfo",
    "File",
    "Input",
    "Path",
    "Secret",
    "Weights",
]


def __getattr__(name: str) -> Any:
    if name == "BaseModel":  # built on first use, see pier.sdk.types
        from pier.sdk.basemodel import BaseModel

        return BaseModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
