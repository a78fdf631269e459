"""`Input(...)`: the default value of a predict parameter that also carries its form metadata."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Cog's legacy Input() used `...` for "no default", so a model may pass `default=...` itself.
MISSING: Any = ...


@dataclass(frozen=True)
class FieldInfo:
    """What `Input()` returns; read by the schema builder and the runner, never by the model."""

    default: Any = MISSING
    description: str | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: tuple[Any, ...] | None = None
    deprecated: bool | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


def Input(  # noqa: N802 - the public spelling predictors use
    default: Any = MISSING,
    description: str | None = None,
    ge: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    regex: str | None = None,
    choices: Iterable[Any] | None = None,
    deprecated: bool | None = None,
) -> Any:
    """Describe a predict parameter. Leaving out `default` makes the input required.

    `default=None` makes it optional (the model receives None when it is not given).
    """
    return FieldInfo(
        default=default,
        description=description,
        ge=ge,
        le=le,
        min_length=min_length,
        max_length=max_length,
        regex=regex,
        choices=tuple(choices) if choices is not None else None,
        deprecated=deprecated,
    )


def field_info_of(default: Any) -> FieldInfo:
    """The FieldInfo for a parameter default: an `Input(...)`, a plain value, or nothing."""
    if isinstance(default, FieldInfo):
        return default
    if default is inspect.Parameter.empty:
        return FieldInfo()
    return FieldInfo(default=default)
