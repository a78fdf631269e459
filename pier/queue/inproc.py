"""The embedded queue: one FIFO line per pool, in this process's memory.

Nothing is lost with it: every job is in the store before anyone hears of it, and at start the
dispatcher puts back every job still waiting there.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Sequence

from pier.queue.base import Claim


class InProcessQueue:
    record_first = False

    def __init__(self) -> None:
        self._lines: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        # Claimers waiting on an empty line; a put hands its job straight to the first of them.
        self._waiters: dict[str, collections.deque[asyncio.Future[Claim]]] = (
            collections.defaultdict(collections.deque)
        )

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def put(self, pool: str, job_id: str) -> None:
        waiters = self._waiters.get(pool)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(Claim(pool, job_id, job_id))
                return
        self._lines[pool].append(job_id)

    def _take(self, pools: Sequence[str]) -> Claim | None:
        for pool in pools:
            line = self._lines.get(pool)
            if line:
                job_id = line.popleft()
                return Claim(pool, job_id, job_id)
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
        try:
            self._lines[pool].remove(job_id)
        except ValueError:
            return False
        return True

    async def holds(self, pool: str, job_id: str) -> bool:
        return job_id in self._lines.get(pool, ())

    async def position(self, pool: str, job_id: str) -> int | None:
        try:
            return self._lines[pool].index(job_id)
        except ValueError:
            return None

    async def depth(self, pool: str) -> int:
        return len(self._lines.get(pool, ()))

    async def unfinished(self, pool: str) -> int:
        return 0  # a claim here is taken in the same step that hands it over
