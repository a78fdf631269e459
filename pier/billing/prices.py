"""What running a model costs: the price that applies to a run, the hold it needs up front, and
what it cost in the end.

A model may have a price of its own (per run, per output unit, or per second); otherwise the
hardware class it runs on has a price per second; with neither, running it is free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FREE = "free"
PER_SECOND = "per_second"
PER_RUN = "per_run"
PER_UNIT = "per_unit"

# Inputs that say how many outputs a run makes, for the hold of a model priced per unit.
COUNT_INPUTS = ("num_outputs", "num_images", "n", "num_samples", "batch_size")
MAX_HELD_UNITS = 1000

Row = dict[str, Any]


@dataclass(frozen=True)
class Price:
    basis: str  # FREE, PER_SECOND, PER_RUN or PER_UNIT
    micros: int  # per second, per run or per unit
    hardware: str
    unit: str | None = None

    @property
    def free(self) -> bool:
        return self.basis == FREE or self.micros == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "micros": self.micros,
            "hardware": self.hardware,
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Price:
        return cls(str(data["basis"]), int(data["micros"]), str(data["hardware"]), data.get("unit"))


def choose(model_price: Row | None, hardware_price: Row | None, hardware: str) -> Price:
    """The price of one run from the rows that may apply: the model's own first."""
    if model_price is not None:
        for basis in (PER_RUN, PER_UNIT, PER_SECOND):
            micros = model_price.get(f"{basis}_micros")
            if micros is not None:
                return Price(basis, int(micros), hardware, model_price.get("unit"))
    if hardware_price is not None and hardware_price.get("per_second_micros") is not None:
        return Price(PER_SECOND, int(hardware_price["per_second_micros"]), hardware)
    return Price(FREE, 0, hardware)


def hold_for(price: Price, inputs: Mapping[str, Any], hold_seconds: float) -> int:
    """Micro-dollars to reserve before a run starts."""
    if price.free:
        return 0
    if price.basis == PER_RUN:
        return price.micros
    if price.basis == PER_UNIT:
        return price.micros * expected_units(inputs)
    return math.ceil(price.micros * hold_seconds)


def expected_units(inputs: Mapping[str, Any]) -> int:
    for name in COUNT_INPUTS:
        value = inputs.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return min(value, MAX_HELD_UNITS)
    return 1


def output_units(output: Any) -> int:
    """How many units a run made: the items of a list, else one thing (none when nothing)."""
    if output is None:
        return 0
    if isinstance(output, list):
        return len(output)
    return 1


def cost_of(price: Price, *, succeeded: bool, run_seconds: float, output: Any) -> int:
    """Micro-dollars a run cost. Per second: the seconds it ran, whatever the outcome (the
    machine was busy). Per run and per unit: only a run that succeeded."""
    if price.free:
        return 0
    if price.basis == PER_SECOND:
        return math.ceil(price.micros * max(0.0, run_seconds))
    if not succeeded:
        return 0
    if price.basis == PER_RUN:
        return price.micros
    return price.micros * output_units(output)
