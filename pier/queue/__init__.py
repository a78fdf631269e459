"""The queue seam: where accepted jobs wait until a worker claims them.

Two implementations behind one small interface: `InProcessQueue` for the embedded default and
`RedisQueue` (Redis Streams with a consumer group) for a queue that outlives any one process.
The store stays the record; a queue only carries job ids in order. `open_queue(url)` picks one
from the `queue` setting.
"""

from __future__ import annotations

from pier.queue.base import (
    BACKGROUND_LANE,
    HIGH_LANE,
    LANES,
    LOW_LANE,
    PEOPLE_LANES,
    PRIORITIES,
    USER_LANE,
    Claim,
    JobQueue,
    QueueUnavailable,
    lane_for,
)
from pier.queue.feed import Feed, open_feed
from pier.queue.inproc import InProcessQueue


def open_queue(url: str, reclaim_after: float = 60.0) -> JobQueue:
    """`""` is the in-process queue; `redis://…` (or `rediss://…`) is Redis Streams, where a
    delivery nobody acknowledges for `reclaim_after` seconds goes to the next claimer."""
    if not url:
        return InProcessQueue()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from pier.queue.redis import RedisQueue

        return RedisQueue(url, reclaim_after)
    raise ValueError(f"The queue setting must be empty or a redis:// URL, not {url!r}")


__all__ = [
    "BACKGROUND_LANE",
    "HIGH_LANE",
    "LANES",
    "LOW_LANE",
    "PEOPLE_LANES",
    "PRIORITIES",
    "USER_LANE",
    "Claim",
    "Feed",
    "InProcessQueue",
    "JobQueue",
    "QueueUnavailable",
    "open_feed",
    "lane_for",
    "open_queue",
]
