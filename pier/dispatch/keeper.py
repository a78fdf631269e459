"""The keeper: what a process does every few seconds so that jobs survive other processes.

Each round it renews the leases of the jobs this process runs, writes its heartbeat row, cancels
the jobs others asked to cancel (in case the change feed's hint was missed), ends the jobs of
processes that went away (a running job fails with a reason once its lease runs out; one taken
but not started waits again for anyone), keeps loaded the model processes that deployments ask
for (floors.py), puts back in the queue jobs that lost their place, and, on a process that runs
jobs from a shared queue, starts pools for versions added meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from pier.dispatch import floors, retention
from pier.dispatch.gpus import gpu_memory
from pier.dispatch.live import end_metrics
from pier.jobs import Kind, PredictionRecord, Status, job_pool, pool_key
from pier.util import utcnow

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher

log = logging.getLogger(__name__)

LEASE_LOST = (
    "The worker running this prediction stopped answering (no heartbeat for {seconds:.0f} s), "
    "so it was failed rather than run twice. Run it again."
)
ROUNDS_PER_LEASE = 4  # leases are renewed this many times before they would run out


class Keeper:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.started_at = utcnow()
        self.rounds = 0
        self._task: asyncio.Task[None] | None = None
        self._models: dict[str, str] = {}  # model id -> "owner/name"

    @property
    def interval(self) -> float:
        return max(0.05, self.dispatcher.settings.lease_seconds / ROUNDS_PER_LEASE)

    async def start(self) -> None:
        with contextlib.suppress(Exception):  # the loop below keeps trying
            await self.round()
        self._task = asyncio.create_task(self._forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.dispatcher.store.forget_process(self.dispatcher.process_id)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.round()
            except Exception as exc:  # an outage: try again next round
                log.warning("keeper round failed: %s", exc)

    async def round(self) -> None:
        d = self.dispatcher
        now = utcnow()
        self.rounds += 1
        mine = [live.id for live in d.live.values() if live.row.get("worker_id") == d.process_id]
        await d.store.renew_leases(d.process_id, mine, now + d.lease)
        used = await asyncio.to_thread(gpu_memory) if d.gpu_placer is not None else None
        await d.store.heartbeat(self.describe(now, used))
        for job_id in await d.store.cancels_for(d.process_id):
            live = d.live.get(job_id)
            if live is not None and not live.status.terminal and not live.cancel_requested:
                asyncio.get_running_loop().create_task(d.cancel(live))
        await self.sweep(now)
        if d.queue.record_first:
            if d.runs_jobs:
                await self.discover()
            if self.rounds % ROUNDS_PER_LEASE == 1:
                await self.requeue(now)
        if self.rounds % ROUNDS_PER_LEASE == 1:
            await d.billing.sweep()
            await retention.sweep(d.store, d.files, d.settings.api_data_retention, now)
        if self.rounds % (ROUNDS_PER_LEASE * 10) == 1:
            await d.store.forget_dead_processes(now - 10 * d.lease)
        await floors.apply(d)  # last: a failure here holds back nothing above

    def describe(self, now: datetime, gpu_used: dict[int, int] | None = None) -> dict[str, Any]:
        d = self.dispatcher
        running = [
            {
                "id": live.id,
                "version": live.version["id"],
                "model": live.row.get("model"),
                "since": started.isoformat(),
            }
            for live in d.live.values()
            if live.status is Status.PROCESSING and (started := live.row.get("started_at"))
        ]
        loaded = [
            {"version": key, "model": pool.model, "processes": pool.loaded}
            for key, pool in d.pools.items()
            if pool.loaded
        ]
        if d.gpu_placer is not None:  # each process's GPUs and the memory it uses on them
            for item in loaded:
                item["gpu_processes"] = d.pools[str(item["version"])].placements(gpu_used)
        return {
            "id": d.process_id,
            "kind": d.kind,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "slots": len(d.gpus) if d.gpus else d.slots,
            "gpus": d.gpus,
            "models": d.models,
            "loaded": loaded,
            "running": running,
            "started_at": self.started_at,
            "heartbeat_at": now,
        }

    async def sweep(self, now: datetime) -> None:
        """End or release the jobs whose holder stopped renewing their leases."""
        d = self.dispatcher
        for row in await d.store.expired_jobs(now):
            if row.get("worker_id") == d.process_id and row["id"] in d.live:
                continue  # ours, and we are alive: renewed next round
            if row["status"] == Status.PROCESSING.value:
                fields: dict[str, Any] = {
                    "status": Status.FAILED.value,
                    "error": LEASE_LOST.format(seconds=d.settings.lease_seconds),
                    "completed_at": now,
                    "secret_input": None,
                    "metrics": end_metrics(row, now, Status.FAILED),
                }
                await d.know_destination(row)
                webhook = d.completed_webhook(cast("PredictionRecord", {**row, **fields}))
                if await d.store.fail_expired(row["id"], now, fields, webhook):
                    log.warning("prediction %s lost its worker %s", row["id"], row["worker_id"])
                    await d.billing.settle(row["id"])
                    await d.feed.publish("done", row["id"])
            elif await d.store.release_expired(row["id"], now):
                # its queue delivery is reclaimed by the next claimer; put it back if it is gone
                if not await d.queue.holds(job_pool(row), row["id"]):
                    await d.queue.put(job_pool(row), row["id"], row.get("lane") or 0)

    async def requeue(self, now: datetime) -> None:
        """Jobs that wait in the store but not in the queue (their API process died between the
        two writes, or the queue lost its data) get their place back."""
        d = self.dispatcher
        for row in await d.store.unheld_waiting(now - d.lease):
            if await d.queue.holds(job_pool(row), row["id"]):
                continue
            # Read again: a worker may have taken and finished it since the list was read.
            current = await d.store.get_prediction(row["id"])
            if current is None or current["status"] != Status.STARTING.value:
                continue
            if current["worker_id"] is not None:
                continue
            log.warning("prediction %s was not in the queue; queued again", row["id"])
            await d.queue.put(job_pool(row), row["id"], current.get("lane") or 0)

    async def discover(self) -> None:
        """Start a pool for every version this process serves (new ones appear any time), and a
        second one for the trainings of each version that can be trained."""
        d = self.dispatcher
        for version in await d.store.all_versions():
            trainable = bool(version.get("train_ref"))
            training = pool_key(version["id"], Kind.TRAINING)
            if version["id"] in d.pools and (not trainable or training in d.pools):
                continue
            model = self._models.get(version["model_id"])
            if model is None:
                row = await d.store.get_model_by_id(version["model_id"])
                if row is None:
                    continue
                model = self._models[version["model_id"]] = f"{row['owner']}/{row['name']}"
            if d.serves(model):
                d.pool_for(version)
                if trainable:
                    d.pool_for(version, Kind.TRAINING)
