"""Cancel and timeouts: fast for cooperative models, by force for the others."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pier.runner.worker import WorkerState

from .conftest import Recorder, wait_until


async def _start(worker, out_dir: Path, inputs: dict, rec: Recorder, marker: str | None):
    await worker.ensure_started()
    task = asyncio.create_task(worker.predict("p1", inputs, out_dir, rec.events()))
    await asyncio.sleep(0)  # let predict() send its request
    if marker is not None:
        await wait_until(lambda: marker in rec.logs)
    return task


async def test_cancel_interrupts_a_sleeping_predict(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("sleep"), Recorder()
    task = await _start(worker, out_dir, {"sleep": 30}, rec, "going to sleep")
    pid = worker.pid
    started = time.monotonic()
    assert await worker.cancel("p1") is True
    result = await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 1.0
    assert (result.status, result.error, result.output) == ("canceled", None, None)
    assert worker.state is WorkerState.READY and worker.pid == pid
    again = await worker.predict("p2", {"sleep": 0}, out_dir)
    assert again.output == "woke up"


async def test_cancel_right_after_sending(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("sleep"), Recorder()
    task = await _start(worker, out_dir, {"sleep": 30}, rec, None)
    assert await worker.cancel("p1") is True
    result = await asyncio.wait_for(task, 2)
    assert result.status == "canceled"
    assert worker.state is WorkerState.READY


async def test_cancel_an_async_predict(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("sleep_async"), Recorder()
    task = await _start(worker, out_dir, {"sleep": 30}, rec, "going to sleep")
    await worker.cancel("p1")
    result = await asyncio.wait_for(task, 2)
    assert result.status == "canceled"
    assert (await worker.predict("p2", {"sleep": 0}, out_dir)).output == "woke up"


async def test_caught_cancel_still_ends_canceled(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("catch_cancel"), Recorder()
    task = await _start(worker, out_dir, {"sleep": 30}, rec, "going to sleep")
    await worker.cancel("p1")
    result = await asyncio.wait_for(task, 2)
    assert (result.status, result.output) == ("canceled", None)
    assert "caught the cancelation, cleaning up\n" in result.logs
    assert worker.state is WorkerState.READY


async def test_ignored_cancel_kills_after_the_grace_period(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("ignore_cancel", cancel_grace=0.5), Recorder()
    task = await _start(worker, out_dir, {"sleep": 30}, rec, "working")
    first_pid = worker.pid
    started = time.monotonic()
    await worker.cancel("p1")
    result = await asyncio.wait_for(task, 5)
    assert 0.4 < time.monotonic() - started < 2.0
    assert (result.status, result.error) == ("canceled", None)
    assert "ignoring the cancelation" in result.logs
    assert worker.state is WorkerState.DEFUNCT
    again = await worker.predict("p2", {"sleep": 0}, out_dir)
    assert again.status == "succeeded" and worker.pid != first_pid


async def test_timeout_fails_the_prediction(make_worker, out_dir: Path) -> None:
    worker = make_worker("sleep")
    await worker.ensure_started()
    started = time.monotonic()
    result = await worker.predict("p1", {"sleep": 30}, out_dir, timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert (result.status, result.error) == ("failed", "Prediction timed out after 0.3 s")
    assert worker.state is WorkerState.READY


async def test_cancel_of_an_unknown_prediction(make_worker, out_dir: Path) -> None:
    worker = make_worker("hello_world")
    assert await worker.cancel("nope") is False
    await worker.predict("p1", {}, out_dir)
    assert await worker.cancel("p1") is False  # already finished


async def test_caller_cancelled_cancels_the_prediction(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("sleep"), Recorder()
    task = await _start(worker, out_dir, {"sleep": 30}, rec, "going to sleep")
    task.cancel()
    await wait_until(lambda: worker.state is WorkerState.READY, timeout=2)
    assert (await worker.predict("p2", {"sleep": 0}, out_dir)).output == "woke up"
