"""The embedded queue: one FIFO line per pool and lane, in this process's memory.

Nothing is lost with it: every job is in the store before anyone hears of it, and at start the
dispatcher puts back every job still waiting there.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Sequence

from pier.queue.base import LANES, USER_LANE, Claim, check_lane


class InProcessQueue:
    record_first = False

    def __init__(self) -> None:
        # (pool, lane) -> the job ids waiting there, oldest first.
        self._lines: dict[tuple[str, int], collections.deque[str]] = collections.defaultdict(
            collections.deque
        )
        # Claimers waiting on an empty pool; a put hands its job straight to the first of them
        # (a pool with a waiting claimer has nothing in any lane, so no order is broken).
        self._waiters: dict[str, collections.deque[asyncio.Future[Claim]]] = (
            collections.defaultdict(collections.deque)
        )

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def put(self, pool: str, job_id: str, lane: int = USER_LANE) -> None:
        check_lane(lane)
        waiters = self._waiters.get(pool)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(Claim(pool, job_id, job_id, lane))
                return
        self._lines[pool, lane].append(job_id)

    def _take(self, pools: Sequence[str]) -> Claim | None:
        for lane in LANES:
            for pool in pools:
                line = self._lines.get((pool, lane))
                if line:
                    job_id = line.popleft()
                    return Claim(pool, job_id, job_id, lane)
        return None

    async def claim(self, pools: Sequence[str], consumer: str, timeout: float) -> Claim | None:
        found = self._take(pools)
        if found is not None or timeout <= 0:
            return found
        waiter: asyncio.Future[Claim] = asyncio.get_running_loop().create_future()
        for pool in pools:
            self._waiters[pool].append(waiter)
        try:
            await asyncio.wait((waiter,), timeout=timeout)
        finally:
            if not waiter.done():
                waiter.cancel()
                for pool in pools:
                    with contextlib.suppress(ValueError):
                        self._waiters[pool].remove(waiter)
        return waiter.result() if not waiter.cancelled() else None

    async def ack(self, claim: Claim) -> None:
        pass

    async def remove(self, pool: str, job_id: str) -> bool:
        for lane in LANES:
            line = self._lines.get((pool, lane))
            if line and job_id in line:
                line.remove(job_id)
                return True
        return False

    async def holds(self, pool: str, job_id: str) -> bool:
        return any(job_id in self._lines.get((pool, lane), ()) for lane in LANES)

    async def position(self, pool: str, job_id: str) -> int | None:
        before = 0
        for lane in LANES:
            line = self._lines.get((pool, lane), ())
            if job_id in line:
                return before + line.index(job_id)
            before += len(line)
        return None

    async def depth(self, pool: str, lane: int | None = None) -> int:
        lanes = LANES if lane is None else (lane,)
        return sum(len(self._lines.get((pool, one), ())) for one in lanes)

    async def unfinished(self, pool: str) -> int:
        return 0  # a claim here is taken in the same step that hands it over
