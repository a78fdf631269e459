"""The hot paths' JSON (orjson) gives what the standard library gave, and takes what it took."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum

from pier.jsonfast import dumps, dumps_text, loads


class Colour(StrEnum):
    RED = "red"


def test_values_come_back_equal_and_keys_become_strings_as_before() -> None:
    value = {
        "floats": [0.1, -5.523987420019694e-05, 1e300, 3.0],
        "text": "héllo ✓ \x00 end",
        "nested": {"a": [None, True, False, {"b": []}]},
        1: "an int key",
        2.5: "a float key",
        None: "a None key",
        "enum": Colour.RED,
    }
    written = dumps(value)
    assert json.loads(written) == json.loads(json.dumps(value))
    assert loads(written)["1"] == "an int key" and loads(written)["null"] == "a None key"


def test_datetimes_go_to_default_as_with_the_standard_library() -> None:
    moment = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    assert loads(dumps({"at": moment}, default=str)) == {"at": str(moment)}


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    huge = 2**70
    assert loads(dumps({"n": huge})) == {"n": huge}
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    assert loads(dumps(deep)) == deep
    lone = "\ud800"  # a lone surrogate: escaped, as the standard library does
    assert json.loads(dumps([lone])) == [lone]
    assert dumps_text({"a": 1}) == '{"a":1}'


def test_nan_and_infinity_from_python_encoders_are_read() -> None:
    assert loads(json.dumps({"x": float("inf")}))["x"] == float("inf")
    nan = loads(b'{"x": NaN}')["x"]
    assert nan != nan
