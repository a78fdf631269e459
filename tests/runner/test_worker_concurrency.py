"""Cog's concurrency.max: one model process runs several async predictions at once, each with
its own logs, outputs, metrics and cancel."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pier.runner.errors import SetupFailed
from tests.runner.conftest import Recorder, wait_until


async def test_four_predictions_at_once_in_one_process(make_worker, tmp_path: Path) -> None:
    worker = make_worker("concurrent_async", concurrency=4)
    await worker.ensure_started()
    pid = worker.pid
    names = ["w", "x", "y", "z"]
    recorders = {name: Recorder() for name in names}
    started = time.monotonic()
    results = await asyncio.gather(
        *(
            worker.predict(
                f"p-{name}",
                {"name": name, "sleep": 1.0},
                tmp_path / name,
                recorders[name].events(),
                context={"id": f"p-{name}"},
            )
            for name in names
        )
    )
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"four 1 s predictions took {elapsed:.2f} s: not at once"
    assert worker.pid == pid
    for name, result in zip(names, results, strict=True):
        assert (result.status, result.output) == ("succeeded", f"hello {name}")
        # Each prediction has its own lines, whole, and none of the others'.
        assert result.logs == f"{name}: start\n{name}: half way\n{name}: done (p-{name})\n"
        assert recorders[name].logs == result.logs
        assert result.metrics["together"] == 4


async def test_cancel_one_leaves_the_others_running(make_worker, tmp_path: Path) -> None:
    worker = make_worker("concurrent_async", concurrency=3)
    await worker.ensure_started()
    pid = worker.pid
    recorders = {name: Recorder() for name in "abc"}
    tasks = {
        name: asyncio.create_task(
            worker.predict(
                f"p-{name}", {"name": name, "sleep": 2.0}, tmp_path / name, recorders[name].events()
            )
        )
        for name in "abc"
    }
    await wait_until(lambda: all("start" in r.logs for r in recorders.values()))
    assert await worker.cancel("p-b") is True
    canceled = await asyncio.wait_for(tasks["b"], 0.5)
    assert (canceled.status, canceled.output) == ("canceled", None)
    assert not tasks["a"].done() and not tasks["c"].done()
    for name in ("a", "c"):
        result = await tasks[name]
        assert (result.status, result.output) == ("succeeded", f"hello {name}")
    assert worker.pid == pid  # nothing was killed
    await wait_until(lambda: worker.state.name == "READY")


async def test_streams_stay_apart(make_worker, tmp_path: Path) -> None:
    worker = make_worker("concurrent_async.py:Streaming", concurrency=2)
    one, two = Recorder(), Recorder()
    first, second = await asyncio.gather(
        worker.predict("s1", {"name": "a", "words": 3}, tmp_path / "1", one.events()),
        worker.predict("s2", {"name": "b", "words": 4}, tmp_path / "2", two.events()),
    )
    assert first.output == ["a0 ", "a1 ", "a2 "]
    assert second.output == ["b0 ", "b1 ", "b2 ", "b3 "]
    assert one.logs == "".join(f"a: word {i}\n" for i in range(3))
    assert two.logs == "".join(f"b: word {i}\n" for i in range(4))


async def test_more_than_the_limit_is_refused(make_worker, tmp_path: Path) -> None:
    worker = make_worker("concurrent_async", concurrency=2)
    await worker.ensure_started()
    running = [
        asyncio.create_task(worker.predict(f"p{i}", {"sleep": 0.5}, tmp_path / str(i)))
        for i in range(2)
    ]
    await wait_until(lambda: not worker.idle)
    with pytest.raises(RuntimeError, match="busy"):
        await worker.predict("p3", {}, tmp_path / "3")
    assert all(r.status == "succeeded" for r in await asyncio.gather(*running))


async def test_a_sync_predictor_cannot_run_several(make_worker) -> None:
    worker = make_worker("concurrent_sync", concurrency=2)
    with pytest.raises(SetupFailed, match="not async"):
        await worker.ensure_started()


async def test_cancel_right_behind_the_request(make_worker, tmp_path: Path) -> None:
    worker = make_worker("concurrent_async", concurrency=2)
    await worker.ensure_started()
    pid = worker.pid
    other = asyncio.create_task(worker.predict("keep", {"sleep": 0.5}, tmp_path / "k"))
    for index in range(5):
        task = asyncio.create_task(worker.predict(f"c{index}", {"sleep": 5}, tmp_path / "c"))
        await asyncio.sleep(0)  # the request is written; the cancel follows at once
        assert await worker.cancel(f"c{index}") is True
        result = await asyncio.wait_for(task, 2)
        assert result.status == "canceled"
    assert (await other).output == "hello a"
    assert worker.pid == pid
