"""JSON on the server's hot paths (responses, stored records, the model process's messages),
through orjson: an order of magnitude faster than the standard library on what models return
(an embedding is hundreds of floats), with the same values.

What orjson refuses and the standard library takes is handed to the standard library, so
nothing that worked before fails now: integers past 64 bits and nesting deeper than 255 levels
on the way out; `NaN` and `Infinity`, which Python's own encoder writes (a model process's
messages), on the way in. orjson writes a float that is not finite as `null`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Keys that are not strings become strings as the standard library makes them; datetimes and
# dataclasses go to `default`, as they did with the standard library.
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON as UTF-8 bytes."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), default=default).encode()


def dumps_text(value: Any) -> str:
    """Compact JSON as text (what a database's JSON column stores)."""
    return dumps(value).decode()


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
