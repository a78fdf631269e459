"""Workers on the fixture predictors, and an event recorder."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from pier.runner.calls import PredictionEvents
from pier.runner.worker import Worker

PREDICTORS = Path(__file__).resolve().parents[1] / "fixtures" / "predictors"


class Recorder:
    """PredictionEvents that remember every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def events(self) -> PredictionEvents:
        return PredictionEvents(
            on_log=lambda text: self.calls.append(("log", text)),
            on_output=lambda value: self.calls.append(("output", value)),
            on_output_kind=lambda iterator: self.calls.append(("kind", iterator)),
            on_progress=lambda pct, cur, tot: self.calls.append(("progress", (pct, cur, tot))),
            on_metric=lambda name, value: self.calls.append(("metric", (name, value))),
        )

    def of(self, kind: str) -> list[Any]:
        return [value for name, value in self.calls if name == kind]

    @property
    def logs(self) -> str:
        return "".join(self.of("log"))


async def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.01)


@pytest.fixture
async def make_worker() -> AsyncIterator[Callable[..., Worker]]:
    made: list[Worker] = []

    def make(ref: str, **kwargs: Any) -> Worker:
        if ":" not in ref:
            ref = f"{ref}.py:Predictor"
        worker = Worker(PREDICTORS, ref, **kwargs)
        made.append(worker)
        return worker

    yield make
    await asyncio.gather(*(w.stop() for w in made))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path
