"""JSON from clients, decoded strictly: whatever is not plain JSON is a BadJson (a client error).

Nesting is bounded before anything is decoded, so no later step (validation, storage, encoding
a response) comes near Python's recursion limit.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

# Real inputs nest a few levels; 64 leaves room for any of them.
MAX_JSON_DEPTH = 64


class BadJson(ValueError):
    pass


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")  # +1 and -1 as signed bytes
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def nesting_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest, found without decoding it.

    Strings are cut out, the brackets left become +1 and -1 and the deepest running sum is the
    depth: a few passes at C speed over the text, instead of a walk over the decoded objects.
    """
    steps = _JSON_STRING.sub(b"", raw).translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(itertools.accumulate(memoryview(steps).cast("b")), default=0)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"the number {text[:40]} is too large")
    return value


def _constant(name: str) -> Any:
    raise BadJson(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_constant)


def loads(raw: str | bytes) -> Any:
    """JSON from a client. Anything that is not plain JSON (malformed text or encoding, NaN or
    an infinite number, a lone surrogate, more than MAX_JSON_DEPTH levels of nesting) raises
    BadJson."""
    data = raw.encode(errors="replace") if isinstance(raw, str) else raw
    # Fewer brackets than the limit cannot nest deeper than it (the usual case: no scan).
    if data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH:
        if nesting_depth(data) > MAX_JSON_DEPTH:
            raise BadJson(f"nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        text = raw.decode(json.detect_encoding(raw)) if isinstance(raw, bytes) else raw
        value = _DECODER.decode(text)
    except BadJson:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError among them
        raise BadJson(str(exc)) from exc
    # "\ud800" alone decodes to a string that is not Unicode text and fails wherever it is
    # encoded later; pairs (as JSON writes emoji) decode to one character and pass.
    if _SURROGATE_ESCAPE.search(data) and not _all_text(value):
        raise BadJson("a string holds a lone surrogate (\\ud800-\\udfff)")
    return value


def _all_text(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True
