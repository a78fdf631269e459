"""The dispatcher on both queues: the same predictions, order, positions, cancel and restart
recovery whether jobs wait in process or in Redis Streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Pier, running_pier

from .conftest import redis_url_or_skip


@pytest.fixture(params=["inproc", "redis"])
def queue_url(request: pytest.FixtureRequest) -> str:
    return redis_url_or_skip() if request.param == "redis" else ""


@pytest.fixture
async def pier_q(tmp_path: Path, queue_url: str) -> AsyncIterator[Pier]:
    async with running_pier(tmp_path, queue=queue_url, workers=2) as instance:
        yield instance


async def test_many_predictions_all_run_once_in_order(pier_q: Pier) -> None:
    await pier_q.add_fixture("t/sleep", "sleep.py")
    # both model processes up first, so start order follows claim order, not boot times
    warm = [(await pier_q.create("t/sleep", {"sleep": 0.5})).json()["id"] for _ in range(2)]
    for pid in warm:
        await pier_q.wait_done(pid, timeout=60)
    ids = []
    for i in range(12):
        response = await pier_q.create("t/sleep", {"sleep": 0.05 + 0.001 * i})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    done = [await pier_q.wait_done(pid, timeout=60) for pid in ids]
    assert {d["status"] for d in done} == {"succeeded"}
    assert all(d["logs"].count("going to sleep") == 1 for d in done)
    starts = [d["started_at"] for d in done]
    # two workers take jobs in order: a job never starts before the one two places ahead of it
    assert all(starts[i] <= starts[i + 2] for i in range(len(starts) - 2)), starts


async def test_waiting_jobs_show_their_place_and_cancel_at_once(pier_q: Pier) -> None:
    await pier_q.add_fixture("t/sleep", "sleep.py")
    running = [(await pier_q.create("t/sleep", {"sleep": 30})).json()["id"] for _ in range(2)]
    waiting = [(await pier_q.create("t/sleep", {"sleep": 0.01})).json()["id"] for _ in range(3)]
    deadline = time.monotonic() + 30
    while True:
        views = [(await pier_q.client.get(f"/v1/predictions/{p}")).json() for p in running]
        if all(v["status"] == "processing" for v in views):
            break
        assert time.monotonic() < deadline, views
        await asyncio.sleep(0.05)
    places = [(await pier_q.client.get(f"/v1/predictions/{p}")).json()["queue"] for p in waiting]
    assert [q["position"] for q in places] == [1, 2, 3]
    assert [q["ahead"] for q in places] == [2, 3, 4]
    canceled = await pier_q.client.post(f"/v1/predictions/{waiting[1]}/cancel")
    assert canceled.json()["status"] == "canceled"
    after = (await pier_q.client.get(f"/v1/predictions/{waiting[2]}")).json()["queue"]
    assert after["position"] == 2
    for pid in running:
        await pier_q.client.post(f"/v1/predictions/{pid}/cancel")
    ended = [await pier_q.wait_done(p, timeout=30) for p in waiting]
    assert [e["status"] for e in ended] == ["succeeded", "canceled", "succeeded"]
    assert ended[1]["started_at"] is None or ended[1]["logs"] == ""


async def test_jobs_waiting_at_shutdown_run_exactly_once_after_a_restart(
    tmp_path: Path, queue_url: str
) -> None:
    async with running_pier(tmp_path, queue=queue_url) as first:
        await first.add_fixture("t/sleep", "sleep.py")
        blocker = (await first.create("t/sleep", {"sleep": 30})).json()["id"]
        queued = [(await first.create("t/sleep", {"sleep": 0.01})).json()["id"] for _ in range(4)]
        deadline = time.monotonic() + 30
        while (await first.client.get(f"/v1/predictions/{blocker}")).json()["status"] != (
            "processing"
        ):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    async with running_pier(tmp_path, queue=queue_url) as second:
        interrupted = await second.wait_done(blocker)
        assert interrupted["status"] == "failed"
        done = [await second.wait_done(pid, timeout=60) for pid in queued]
        assert {d["status"] for d in done} == {"succeeded"}
        assert all(d["logs"].count("going to sleep") == 1 for d in done)
        depth = await second.services.dispatcher.queue.depth(interrupted["version"])
        assert depth == 0
