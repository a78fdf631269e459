"""`BaseModel`: the base class for structured outputs (a plain pydantic model also works)."""

from __future__ import annotations

import pydantic


class BaseModel(pydantic.BaseModel):
    """Fields named `model_*` and arbitrary value types (arrays, images) are allowed."""

    model_config = pydantic.ConfigDict(protected_namespaces=(), arbitrary_types_allowed=True)
