"""The value types a predictor author annotates with: files, secrets, streamed text, outputs.

Each file and secret type carries pydantic hooks so it also works inside a user's own
`BaseModel` output class; pydantic itself is only imported when a model uses it.
"""

from __future__ import annotations

import io
import pathlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

URI_SCHEMA: dict[str, Any] = {"type": "string", "format": "uri"}
SECRET_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "password",
    "writeOnly": True,
    "x-cog-secret": True,
}
SECRET_MASK = "**********"


class CancelationException(BaseException):  # noqa: N818 - Cog's spelling, kept for compatibility
    """Raised inside a running `predict()` when its prediction is canceled.

    It derives from BaseException so that a bare `except Exception` in model code does not
    swallow it. A model may catch it to clean up, and should re-raise it.
    """


class ExperimentalFeatureWarning(Warning):
    """The warning category Cog files its experimental features under; models import it to
    silence them (`warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)`)."""


def _plain_validator(convert: Any) -> Any:
    from pydantic_core import core_schema

    return core_schema.no_info_plain_validator_function(
        convert,
        serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json"),
    )


class Path(pathlib.PosixPath):
    """A local file path. As an input it arrives downloaded; as an output it is uploaded."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _plain_validator(cls._convert)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return dict(URI_SCHEMA)

    @classmethod
    def _convert(cls, value: Any) -> Path:
        if isinstance(value, cls):
            return value
        if isinstance(value, str | pathlib.PurePath):
            return cls(value)
        raise ValueError(f"expected a path, got {type(value).__name__}")


class File(io.IOBase):
    """A file-like input (deprecated in Cog in favour of `Path`); the model reads from it."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _plain_validator(cls._convert)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return dict(URI_SCHEMA)

    @classmethod
    def _convert(cls, value: Any) -> Any:
        if isinstance(value, io.IOBase):
            return value
        if isinstance(value, str | pathlib.PurePath):
            return open(value, "rb")  # noqa: SIM115 - the model owns the handle
        raise ValueError(f"expected a file, got {type(value).__name__}")


class Secret:
    """A string that never shows itself in logs, reprs or responses."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None = None) -> None:
        self._value = value

    def get_secret_value(self) -> str | None:
        return self._value

    def __str__(self) -> str:
        return SECRET_MASK if self._value else ""

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value or "")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _plain_validator(cls._convert)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return dict(SECRET_SCHEMA)

    @classmethod
    def _convert(cls, value: Any) -> Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return cls(value)
        raise ValueError(f"expected a string, got {type(value).__name__}")


class ConcatenateIterator(Iterator[T], Generic[T]):
    """Return hint: the yielded text chunks form one string (UIs join them as they stream)."""

    def __next__(self) -> T:  # pragma: no cover - a type hint, never instantiated
        raise StopIteration


class AsyncConcatenateIterator(AsyncIterator[T], Generic[T]):
    """Async twin of `ConcatenateIterator`, for `async def predict` generators."""

    async def __anext__(self) -> T:  # pragma: no cover - a type hint, never instantiated
        raise StopAsyncIteration


def __getattr__(name: str) -> Any:
    # BaseModel is built on first use: creating the first pydantic model class costs more
    # than everything else a model process imports, and most models never need one.
    if name == "BaseModel":
        from pier.sdk.basemodel import BaseModel

        return BaseModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
