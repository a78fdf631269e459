"""What the parent side of a model process keeps per prediction: the caller's callbacks
(`PredictionEvents`), the request (`PredictionRequest`), the result (`PredictionResult`), and
the bookkeeping of one running prediction (`Run`) and of one call to the model (`Call`)."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pier.jobs import Status

log = logging.getLogger("pier.runner.worker")


def ignore(*args: Any) -> None:
    """A callback that does nothing (the default of every event)."""
    return None


@dataclass
class PredictionEvents:
    """Callbacks for a running prediction, called in order on the event loop."""

    on_log: Callable[[str], None] = ignore
    on_output: Callable[[Any], None] = ignore
    on_output_kind: Callable[[bool], None] = ignore
    on_progress: Callable[[float, int, int], None] = ignore
    on_metric: Callable[[str, Any], None] = ignore


@dataclass
class PredictionResult:
    status: Status  # a terminal one
    output: Any = None  # a list for iterator outputs
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    logs: str = ""


@dataclass
class PredictionRequest:
    """One prediction to run, alone or in a batch."""

    id: str
    inputs: dict[str, Any]
    output_dir: pathlib.Path
    events: PredictionEvents = field(default_factory=PredictionEvents)
    context: dict[str, str] = field(default_factory=dict)
    # False: the result's `logs` stay empty (the caller takes them from `on_log`), so a chatty
    # model costs no memory here.
    keep_logs: bool = True

    def fields(self) -> dict[str, Any]:
        output_dir = os.path.abspath(self.output_dir)
        return {"id": self.id, "inputs": self.inputs, "output_dir": output_dir,
                "context": self.context}  # fmt: skip


@dataclass
class Run:
    id: str
    events: PredictionEvents
    future: asyncio.Future[tuple[Status, str | None]]
    started: float
    call_id: str
    iterator: bool = False
    output: Any = None
    items: list[Any] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    cancel_requested: bool = False
    keep_logs: bool = True
    ended: float | None = None

    def call(self, name: str, *args: Any) -> None:
        try:
            getattr(self.events, name)(*args)
        except Exception:
            log.exception("prediction %s: the %s callback failed", self.id, name)


@dataclass
class Call:
    id: str  # the prediction's id, or the batch's
    runs: list[Run]
    cancel_requested: bool = False
    grace: asyncio.Task[None] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
