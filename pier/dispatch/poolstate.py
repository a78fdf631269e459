"""What the parts of a version pool share: its state, declared once for the type checker.

The pool (pool.py) is one class made of parts in modules of their own: GPU placement
(poolgpus.py), the floor and cap that deployments ask for (poolfloor.py) and running jobs
(execute.py). Each part reads the pool's state through `PoolState`, which the pool sets up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pier.dispatch.estimate import Report
from pier.dispatch.live import Live
from pier.jobs import Kind
from pier.runner.worker import Worker
from pier.serving import Batch

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher


class PoolState:
    """The attributes and methods the parts of a VersionPool use across part boundaries."""

    dispatcher: Dispatcher
    version: dict[str, Any]
    kind: Kind
    key: str
    model: str
    queue: Any
    workers: list[Worker]
    running: dict[str, tuple[Live, Worker]]
    busy: int
    started: dict[str, float]
    paced: dict[str, list[Report]]
    gpus_needed: int | None
    average_time: float | None
    batch: Batch | None
    file_fields: dict[str, bool]
    floor: int
    cap: int
    _cap_changed: asyncio.Event
    _parked: dict[int, int]
    _warming: asyncio.Task[None] | None
    _warm_error: str | None

    if TYPE_CHECKING:

        async def _version_dir(self) -> Path: ...

        async def _boot(self, worker: Worker, live: Live | None) -> bool: ...

        async def _fits_gpus(self, worker: Worker) -> bool: ...

        async def _gpu_need(self) -> int: ...

        async def _place(self, worker: Worker, live: Live) -> None: ...
