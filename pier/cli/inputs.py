"""Turning `-i name=value` pairs into a typed input object, using the model's schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


class InputError(Exception):
    pass


def parse_pairs(pairs: list[str]) -> list[tuple[str, str]]:
    parsed = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"-i {pair!r}: write inputs as name=value (or name=@file)")
        parsed.append((name.strip(), value))
    return parsed


def _property(schema: dict[str, Any], name: str) -> dict[str, Any]:
    schemas = schema.get("components", {}).get("schemas", {})
    prop = dict(schemas.get("Input", {}).get("properties", {}).get(name, {}))
    for ref in prop.get("allOf", []):
        target = ref.get("$ref", "").rsplit("/", 1)[-1]
        prop.update({k: v for k, v in schemas.get(target, {}).items() if k in ("type", "enum")})
    return prop


def _scalar(name: str, kind: str | None, value: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError as exc:
        raise InputError(f"{name} must be a {kind}, not {value!r}") from exc
    if kind == "boolean":
        lowered = value.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise InputError(f"{name} must be true or false, not {value!r}")
    return value


def coerce_inputs(
    pairs: list[tuple[str, str]],
    schema: dict[str, Any],
    file_to_url: Callable[[Path], str],
) -> dict[str, Any]:
    """Values typed by the schema; `@path` uploads a file; repeating an array input appends."""
    result: dict[str, Any] = {}
    for name, raw in pairs:
        prop = _property(schema, name)
        is_array = prop.get("type") == "array"
        item_type = (prop.get("items") or {}).get("type") if is_array else prop.get("type")
        if raw.startswith("@"):
            path = Path(raw[1:]).expanduser()
            if not path.is_file():
                raise InputError(f"{name}: file {path} does not exist")
            value: Any = file_to_url(path)
        elif is_array and raw.startswith("["):
            try:
                result[name] = json.loads(raw)
            except ValueError as exc:
                raise InputError(f"{name}: {raw!r} is not a JSON list") from exc
            continue
        else:
            value = _scalar(name, item_type, raw)
        if is_array:
            result.setdefault(name, []).append(value)
        else:
            result[name] = value
    return result
