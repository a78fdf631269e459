"""Where a waiting job stands when this process does not hold it (it runs, or will run,
wherever a worker claims it): its place in the shared queue, the jobs ahead, and the wait, from
the queue and the store alone."""

from __future__ import annotations

import time
from typing import Any

from pier.dispatch.estimate import Report, wait_estimate
from pier.jobs import Phase, PredictionRecord, Status, job_pool
from pier.queue import JobQueue
from pier.store import Store
from pier.store.cache import LRU
from pier.store.store import CACHE_ENTRIES

RUN_TIME_TTL = 5.0  # seconds a version's recent run time is reused for wait estimates


class Elsewhere:
    def __init__(self, queue: JobQueue, store: Store) -> None:
        self.queue = queue
        self.store = store
        self._run_times: LRU[str, tuple[float, float | None]] = LRU(CACHE_ENTRIES)

    async def queue_info(self, row: PredictionRecord) -> dict[str, Any] | None:
        """Where a waiting job stands in the shared queue."""
        if row["status"] != Status.STARTING.value:
            return None
        if row.get("worker_id") is not None:
            return {"position": 0, "ahead": 0, "phase": Phase.BOOTING.value, "estimated_wait": None}
        version = job_pool(row)
        index = await self.queue.position(version, row["id"])
        if index is None:
            return None
        running = await self.store.running_count(version)
        return {
            "position": index + 1,
            "ahead": index + running,
            "phase": Phase.QUEUED.value,
            "estimated_wait": await self._estimate(version, index, running),
        }

    async def typical_run_time(self, version: str) -> float | None:
        """The version's recent mean run time from the store (read at most every few seconds)."""
        now = time.monotonic()
        cached = self._run_times.get(version)
        if cached is None or cached[0] < now:
            cached = (now + RUN_TIME_TTL, await self.store.recent_run_time(version))
            self._run_times.put(version, cached)
        return cached[1]

    async def _estimate(self, version: str, index: int, running: int) -> float | None:
        """Seconds until a job `index` places back starts: the jobs running now half done on
        average, then those ahead at the recent run time."""
        typical = await self.typical_run_time(version)
        if typical is None:
            return None
        busy: list[tuple[float, list[Report] | None]] = [(typical / 2, None)] * running
        return wait_estimate(index, busy, 0, max(1, running), typical)
