"""Queue lanes: a person's job is claimed before background jobs queued earlier, a higher priority
before a lower one, and the position each job is told counts every job that will really be
claimed before it (both queues)."""

from __future__ import annotations

import asyncio
import time

import pytest

from pier.queue import BACKGROUND_LANE, HIGH_LANE, LOW_LANE, USER_LANE, JobQueue, keys
from pier.queue.redis import RedisQueue

from .conftest import redis_url_or_skip


async def drain(queue: JobQueue, pool: str) -> list[str]:
    seen = []
    while (claim := await queue.claim([pool], "w", 0)) is not None:
        seen.append(claim.job_id)
        await queue.ack(claim)
    return seen


async def test_a_user_job_goes_before_background_jobs_queued_earlier(queue: JobQueue) -> None:
    for job in ("ex1", "ex2", "ex3"):
        await queue.put("L", job, BACKGROUND_LANE)
    await queue.put("L", "mine", USER_LANE)
    assert await queue.depth("L") == 4
    assert await queue.position("L", "mine") == 0
    # Background jobs count the user's job too: it will be claimed before them.
    assert [await queue.position("L", j) for j in ("ex1", "ex2", "ex3")] == [1, 2, 3]
    assert await drain(queue, "L") == ["mine", "ex1", "ex2", "ex3"]


async def test_positions_stay_honest_while_jobs_are_claimed(queue: JobQueue) -> None:
    await queue.put("M", "bg1", BACKGROUND_LANE)
    await queue.put("M", "u1")
    await queue.put("M", "bg2", BACKGROUND_LANE)
    await queue.put("M", "u2")
    assert [await queue.position("M", j) for j in ("u1", "u2", "bg1", "bg2")] == [0, 1, 2, 3]
    first = await queue.claim(["M"], "w", 0)
    assert first is not None and first.job_id == "u1" and first.lane == USER_LANE
    await queue.ack(first)
    assert [await queue.position("M", j) for j in ("u2", "bg1", "bg2")] == [0, 1, 2]
    # A background job can still be taken out of the line, and the rest move up.
    assert await queue.remove("M", "bg1") is True
    assert await queue.position("M", "bg2") == 1
    assert await queue.holds("M", "bg2") and not await queue.holds("M", "bg1")
    assert await drain(queue, "M") == ["u2", "bg2"]
    assert await queue.depth("M") == 0


async def test_a_claimed_background_job_is_acknowledged_in_its_lane(queue: JobQueue) -> None:
    await queue.put("N", "bg", BACKGROUND_LANE)
    claim = await queue.claim(["N"], "w", 0)
    assert claim is not None and claim.lane == BACKGROUND_LANE
    assert await queue.unfinished("N") in (0, 1)  # the in-process queue counts none
    await queue.ack(claim)
    assert await queue.unfinished("N") == 0
    assert not await queue.holds("N", "bg")


async def test_an_unknown_lane_is_refused(queue: JobQueue) -> None:
    with pytest.raises(ValueError, match="lane"):
        await queue.put("O", "x", 7)


async def test_priority_lanes_go_in_order_and_positions_count_every_lane_ahead(
    queue: JobQueue,
) -> None:
    await queue.put("P", "bg", BACKGROUND_LANE)
    await queue.put("P", "low1", LOW_LANE)
    await queue.put("P", "normal1", USER_LANE)
    await queue.put("P", "low2", LOW_LANE)
    await queue.put("P", "high1", HIGH_LANE)
    await queue.put("P", "normal2", USER_LANE)
    await queue.put("P", "high2", HIGH_LANE)
    order = ["high1", "high2", "normal1", "normal2", "low1", "low2", "bg"]
    assert [await queue.position("P", job) for job in order] == list(range(7))
    assert await queue.depth("P", HIGH_LANE) == 2 and await queue.depth("P") == 7
    first = await queue.claim(["P"], "w", 0)
    assert first is not None and first.job_id == "high1" and first.lane == HIGH_LANE
    await queue.ack(first)
    # A late high-priority job still goes before every normal and low one.
    await queue.put("P", "high3", HIGH_LANE)
    assert await queue.position("P", "high3") == 1
    assert await queue.position("P", "low1") == 4
    assert await drain(queue, "P") == ["high2", "high3", *order[2:]]


async def test_an_abandoned_delivery_is_reclaimed_in_its_lane_turn() -> None:
    url = redis_url_or_skip()
    dead, alive = RedisQueue(url, reclaim_after=0.2), RedisQueue(url, reclaim_after=0.2)
    try:
        await dead.put("R", "stale", LOW_LANE)
        taken = await dead.claim(["R"], "dead-worker", 0)
        assert taken is not None and taken.job_id == "stale"
        await alive.put("R", "urgent", HIGH_LANE)
        await alive.put("R", "later", LOW_LANE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the stale delivery may be reclaimed
            pending = await alive.redis.xpending_range(
                keys.stream("R", LOW_LANE), keys.GROUP, "-", "+", 1
            )
            if pending and pending[0]["time_since_delivered"] > 250:
                break
            await asyncio.sleep(0.05)
        seen = []
        while (claim := await alive.claim(["R"], "live-worker", 0)) is not None:
            seen.append(claim.job_id)
            await alive.ack(claim)
        assert seen == ["urgent", "stale", "later"]
    finally:
        await dead.close()
        await alive.close()
