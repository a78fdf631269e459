"""Does a returned value fit the declared output type? Cog's lax rules, without pydantic.

Cog 0.16 validates a prediction's output against the return annotation the way pydantic's lax
mode does: `-> int` accepts `3`, `3.0`, `True` and `"7"`, and fails `"foo"` or `3.5`. The value
itself is sent unchanged. `None` is accepted at the top (the response's output may be null).
"""

from __future__ import annotations

import io
import numbers
import os
from collections.abc import Mapping
from typing import Any

from pier.sdk.signature import Kind, TypeNode
from pier.sdk.types import Secret

TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "off"}


def describe_type(node: TypeNode) -> str:
    names = {
        Kind.STR: "str", Kind.INT: "int", Kind.FLOAT: "float", Kind.BOOL: "bool",
        Kind.PATH: "Path", Kind.FILE: "File", Kind.SECRET: "Secret", Kind.DICT: "dict",
        Kind.ANY: "Any",
    }  # fmt: skip
    if node.kind in names:
        name = names[node.kind]
    elif node.kind is Kind.MODEL and node.model is not None:
        name = node.model.__name__
    elif node.kind is Kind.LITERAL:
        name = f"Literal[{', '.join(repr(v) for v in node.values)}]"
    elif node.kind in (Kind.LIST, Kind.ITERATOR):
        outer = "List" if node.kind is Kind.LIST else "Iterator"
        name = f"{outer}[{describe_type(node.args[0])}]"
    else:
        name = " | ".join(describe_type(arg) for arg in node.args)
    return f"Optional[{name}]" if node.nullable else name


def _int_like(value: Any) -> bool:
    if isinstance(value, numbers.Integral):
        return True
    if isinstance(value, numbers.Real):
        return float(value).is_integer()
    if isinstance(value, str):
        try:
            int(value.strip())
        except ValueError:
            return False
        return True
    return False


def _float_like(value: Any) -> bool:
    if isinstance(value, numbers.Real):
        return True
    if isinstance(value, str):
        try:
            float(value.strip())
        except ValueError:
            return False
        return True
    return False


def _bool_like(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, numbers.Integral):
        return int(value) in (0, 1)
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS | FALSE_WORDS
    return False


def _sequence(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        listed = value.tolist()
        return listed if isinstance(listed, list) else None
    return None


def mismatch(node: TypeNode, value: Any, where: str = "output") -> str | None:
    """Why `value` does not fit `node` (naming the place inside it), or None when it fits."""
    if value is None:
        return None if node.nullable or where == "output" else f"{where}: got None"
    kind = node.kind
    ok = True
    if kind in (Kind.ANY, Kind.ITERATOR):
        return _items(node, value, where) if kind is Kind.ITERATOR else None
    if kind is Kind.STR:
        ok = isinstance(value, str)
    elif kind is Kind.INT:
        ok = _int_like(value)
    elif kind is Kind.FLOAT:
        ok = _float_like(value)
    elif kind is Kind.BOOL:
        ok = _bool_like(value)
    elif kind in (Kind.PATH, Kind.FILE):
        ok = isinstance(value, str | os.PathLike | io.IOBase)
    elif kind is Kind.SECRET:
        ok = isinstance(value, str | Secret)
    elif kind is Kind.DICT:
        ok = isinstance(value, Mapping)
    elif kind is Kind.LITERAL:
        ok = value in node.values
    elif kind is Kind.MODEL:
        ok = isinstance(value, Mapping) or (
            node.model is not None and isinstance(value, node.model)
        )
    elif kind is Kind.LIST:
        return _items(node, value, where)
    elif kind is Kind.UNION:
        ok = any(mismatch(arg, value, where) is None for arg in node.args)
    if ok:
        return None
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{where}: expected {describe_type(node)}, got {type(value).__name__} {shown}"


def _items(node: TypeNode, value: Any, where: str) -> str | None:
    items = _sequence(value)
    if items is None:
        return f"{where}: expected {describe_type(node)}, got {type(value).__name__}"
    for index, item in enumerate(items):
        problem = mismatch(node.args[0], item, f"{where}[{index}]")
        if problem is not None:
            return problem
    return None
