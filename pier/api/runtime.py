"""How long a model takes on this machine: its run time at default settings, measured from its
recent successful predictions, and from its example when nothing ran at the defaults yet.

A run counts as "at default settings" when every input that is not text (numbers, booleans,
choices) has its default; text such as a prompt barely changes the work, and a seed none at all.
"""

from __future__ import annotations

import statistics
from typing import Any

from pier.jobs import PredictionRecord

HEAVY_SECONDS = 30.0  # a run longer than this at the defaults is called heavy
IGNORED = ("seed",)


def _sets_work(prop: dict[str, Any]) -> bool:
    return prop.get("type") in ("integer", "number", "boolean") or "enum" in prop or "allOf" in prop


def _settings(schema: dict[str, Any]) -> dict[str, Any]:
    """The defaults of the inputs that set how much work a run is."""
    props = schema.get("components", {}).get("schemas", {}).get("Input", {}).get("properties", {})
    return {
        name: prop.get("default")
        for name, prop in props.items()
        if name not in IGNORED and _sets_work(prop)
    }


def _run_time(row: PredictionRecord) -> float | None:
    value = (row.get("metrics") or {}).get("predict_time")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def measured(
    schema: dict[str, Any], recent: list[PredictionRecord], example: PredictionRecord | None
) -> dict[str, Any]:
    """`default_settings`: the median run time of recent runs at the defaults (and how many);
    `example`: the example's run time and the settings where it differs from the defaults;
    `heavier_than_example`: every differing setting asks for more at the defaults;
    `heavy`: the defaults take (or, going by the example, will take) over HEAVY_SECONDS."""
    defaults = _settings(schema)
    at_defaults = [
        seconds
        for row in recent
        if (seconds := _run_time(row)) is not None
        and all(row["input"].get(name, value) == value for name, value in defaults.items())
    ]
    default_settings: dict[str, Any] | None = (
        {"predict_time": round(statistics.median(at_defaults), 3), "runs": len(at_defaults)}
        if at_defaults
        else None
    )
    example_info: dict[str, Any] | None = None
    example_time = None
    heavier = False
    if example is not None and (seconds := _run_time(example)) is not None:
        example_time = seconds
        differs = {
            name: example["input"].get(name, value)
            for name, value in defaults.items()
            if example["input"].get(name, value) != value
        }
        example_info = {"predict_time": round(seconds, 3), "input": differs}
        numbers = [
            (defaults[name], value)
            for name, value in differs.items()
            if isinstance(value, int | float) and isinstance(defaults[name], int | float)
        ]
        heavier = bool(differs) and len(numbers) == len(differs)
        heavier = heavier and all(default >= value for default, value in numbers)
    if default_settings is not None:
        heavy = default_settings["predict_time"] > HEAVY_SECONDS
    else:
        heavy = heavier and example_time is not None and example_time > HEAVY_SECONDS
    return {
        "default_settings": default_settings,
        "example": example_info,
        "heavier_than_example": heavier,
        "heavy": heavy,
        "heavy_seconds": HEAVY_SECONDS,
    }
