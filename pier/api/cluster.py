"""The cluster at a glance, read from the store: each process as its last heartbeat described it,
and the predictions waiting per model version. One read serves `GET /v1/admin/cluster` (and so
`pier status` and the operator page) and `/metrics`.

A process writes its row every `beat` seconds (the keeper's round) and deletes it when it stops
cleanly; a row whose heartbeat is older than MISSED_BEATS rounds belongs to a process that died.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pier.queue import JobQueue, QueueUnavailable
from pier.store import Row, Store
from pier.util import isoformat, utcnow

MISSED_BEATS = 3
QUEUE_TIMEOUT = 2.0  # seconds the job queue may take to say how long its lines are


@dataclass(frozen=True)
class Cluster:
    time: datetime
    processes: list[dict[str, Any]]
    queues: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"time": isoformat(self.time), "processes": self.processes, "queues": self.queues}


def _process(row: Row, now: datetime, dead_after: float) -> dict[str, Any]:
    age = max(0.0, (now - row["heartbeat_at"]).total_seconds())
    return {
        "id": row["id"],
        "kind": row["kind"],
        "host": row["host"],
        "pid": row["pid"],
        "slots": row["slots"],
        "gpus": row["gpus"],
        "models": row["models"],
        "loaded": row["loaded"] or [],
        "running": row["running"] or [],
        "started_at": isoformat(row["started_at"]),
        "heartbeat_at": isoformat(row["heartbeat_at"]),
        "heartbeat_age": round(age, 3),
        "alive": age <= dead_after,
    }


async def _queued(queue: JobQueue | None, versions: list[str]) -> list[int | None]:
    """How many jobs wait in the job queue's line of each version; None where it cannot say."""
    if queue is None or not versions:
        return [None] * len(versions)
    try:
        async with asyncio.timeout(QUEUE_TIMEOUT):
            return list(await asyncio.gather(*(queue.depth(v) for v in versions)))
    except (QueueUnavailable, TimeoutError):
        return [None] * len(versions)


async def read(store: Store, beat: float, queue: JobQueue | None = None) -> Cluster:
    """The cluster now, for processes that write a heartbeat every `beat` seconds. `queue`, when
    given, adds each version's line length in the job queue (`queued`) beside the store's count
    of predictions waiting to start (`depth`)."""
    dead_after = MISSED_BEATS * beat
    rows, waiting = await asyncio.gather(store.list_processes(), store.queue_summary())
    now = utcnow()
    queued = await _queued(queue, [str(row["version"]) for row in waiting])
    queues = [
        {
            "model": row["model"],
            "version": row["version"],
            "depth": int(row["depth"]),
            "queued": in_line,
            "oldest_wait_seconds": round(max(0.0, (now - row["oldest"]).total_seconds()), 3),
        }
        for row, in_line in zip(waiting, queued, strict=True)
    ]
    return Cluster(now, [_process(row, now, dead_after) for row in rows], queues)
