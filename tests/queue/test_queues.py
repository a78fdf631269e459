"""The queue seam: the same behaviour from the in-process queue and from Redis Streams."""

from __future__ import annotations

import asyncio
import time

import pytest

from pier.dispatch.pool import CLAIM_WAIT
from pier.queue import JobQueue, QueueUnavailable, open_queue
from pier.queue import redis as redis_queue
from pier.queue.redis import RedisQueue

from .conftest import redis_url_or_skip


async def test_jobs_come_out_in_order_per_pool(queue: JobQueue) -> None:
    for job in ("a1", "a2", "a3"):
        await queue.put("A", job)
    await queue.put("B", "b1")
    assert await queue.depth("A") == 3
    seen = []
    while (claim := await queue.claim(["A"], "w1", 0)) is not None:
        seen.append(claim.job_id)
        await queue.ack(claim)
    assert seen == ["a1", "a2", "a3"]
    assert await queue.depth("A") == 0
    claim = await queue.claim(["A", "B"], "w1", 0)
    assert claim is not None and (claim.pool, claim.job_id) == ("B", "b1")


async def test_position_counts_the_jobs_ahead(queue: JobQueue) -> None:
    for job in ("j1", "j2", "j3"):
        await queue.put("P", job)
    assert [await queue.position("P", j) for j in ("j1", "j2", "j3")] == [0, 1, 2]
    first = await queue.claim(["P"], "w", 0)
    assert first is not None and first.job_id == "j1"
    assert await queue.position("P", "j1") is None  # claimed: no longer waiting
    assert [await queue.position("P", j) for j in ("j2", "j3")] == [0, 1]
    assert await queue.position("P", "unknown") is None


async def test_a_waiting_job_can_be_removed_but_not_a_claimed_one(queue: JobQueue) -> None:
    for job in ("r1", "r2", "r3"):
        await queue.put("R", job)
    claim = await queue.claim(["R"], "w", 0)
    assert claim is not None and claim.job_id == "r1"
    assert await queue.remove("R", "r1") is False
    assert await queue.remove("R", "r2") is True
    assert await queue.remove("R", "r2") is False
    assert await queue.depth("R") == 1
    nxt = await queue.claim(["R"], "w", 0)
    assert nxt is not None and nxt.job_id == "r3"


async def test_a_blocked_claim_wakes_when_a_job_arrives(queue: JobQueue) -> None:
    waiting = asyncio.create_task(queue.claim(["W"], "w", 10.0))
    await asyncio.sleep(0)  # let the claimer block first
    started = time.monotonic()
    await queue.put("W", "late")
    claim = await asyncio.wait_for(waiting, 10.0)
    assert claim is not None and claim.job_id == "late"
    assert time.monotonic() - started < 5.0


async def test_a_claim_with_nothing_to_do_returns_none_after_its_timeout(queue: JobQueue) -> None:
    started = time.monotonic()
    assert await queue.claim(["empty"], "w", 0.2) is None
    assert 0.15 <= time.monotonic() - started < 5.0


async def test_a_slot_waiting_on_an_empty_redis_queue_sees_no_outage() -> None:
    # A slot's claim blocks CLAIM_WAIT seconds; the client must wait longer than that for
    # Redis's empty answer, or every idle wait ends as a read timeout, reported as an outage.
    queue = RedisQueue(redis_url_or_skip())
    try:
        assert await queue.claim(["idle"], "w", CLAIM_WAIT) is None
    finally:
        await queue.close()


async def test_a_redis_claim_longer_than_one_blocking_read_reads_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_queue, "MAX_BLOCK", 0.2)
    queue = RedisQueue(redis_url_or_skip())
    try:
        started = time.monotonic()
        assert await queue.claim(["R"], "w", 0.7) is None
        assert 0.6 <= time.monotonic() - started < 5.0
        waiting = asyncio.create_task(queue.claim(["R"], "w", 3.0))
        await asyncio.sleep(0.5)  # past the first read
        await queue.put("R", "late")
        claim = await asyncio.wait_for(waiting, 5.0)
        assert claim is not None and claim.job_id == "late"
    finally:
        await queue.close()


async def test_two_claimers_never_get_the_same_job(queue: JobQueue) -> None:
    jobs = [f"c{i}" for i in range(200)]
    for job in jobs:
        await queue.put("C", job)

    async def drain(name: str) -> list[str]:
        got = []
        while (claim := await queue.claim(["C"], name, 0)) is not None:
            got.append(claim.job_id)
            await queue.ack(claim)
            await asyncio.sleep(0)
        return got

    first, second = await asyncio.gather(drain("w1"), drain("w2"))
    assert sorted(first + second) == sorted(jobs)
    assert not set(first) & set(second)


async def test_redis_hands_an_abandoned_delivery_to_the_next_worker() -> None:
    url = redis_url_or_skip()
    dead, alive = RedisQueue(url, reclaim_after=0.2), RedisQueue(url, reclaim_after=0.2)
    try:
        await dead.put("X", "orphan")
        taken = await dead.claim(["X"], "dead-worker", 0)
        assert taken is not None and taken.job_id == "orphan"
        assert await alive.claim(["X"], "live-worker", 0) is None  # still fresh
        deadline = time.monotonic() + 10
        again = None
        while again is None and time.monotonic() < deadline:
            again = await alive.claim(["X"], "live-worker", 0.05)
        assert again is not None and again.job_id == "orphan"
        await alive.ack(again)
        assert await alive.depth("X") == 0
    finally:
        await dead.close()
        await alive.close()


async def test_an_unreachable_redis_is_a_clear_error() -> None:
    queue = open_queue("redis://127.0.0.1:1/0")
    with pytest.raises(QueueUnavailable, match="unreachable"):
        await queue.start()
    with pytest.raises(QueueUnavailable):
        await queue.put("P", "x")
    await queue.close()


def test_an_unknown_queue_url_is_refused() -> None:
    with pytest.raises(ValueError, match="redis://"):
        open_queue("amqp://localhost")


async def test_redis_counts_claimed_jobs_until_they_are_acknowledged() -> None:
    url = redis_url_or_skip()
    queue = RedisQueue(url)
    try:
        await queue.put("U", "u1")
        assert (await queue.depth("U"), await queue.unfinished("U")) == (1, 0)
        claim = await queue.claim(["U"], "w", 0)
        assert claim is not None
        assert (await queue.depth("U"), await queue.unfinished("U")) == (0, 1)
        await queue.ack(claim)
        assert (await queue.depth("U"), await queue.unfinished("U")) == (0, 0)
    finally:
        await queue.close()
