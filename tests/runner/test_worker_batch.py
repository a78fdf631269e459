"""Batches: several predictions in one call of the predictor's batch method, each ending with
its own status, output and metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pier.runner.calls import PredictionRequest
from tests.runner.conftest import Recorder, wait_until


def requests(tmp_path: Path, *inputs: dict, recorders: list[Recorder] | None = None) -> list:
    return [
        PredictionRequest(
            f"p{index}",
            item,
            tmp_path / str(index),
            recorders[index].events() if recorders else Recorder().events(),
        )
        for index, item in enumerate(inputs)
    ]


async def test_one_call_many_results_in_order(make_worker, tmp_path: Path) -> None:
    worker = make_worker("batch_upper")
    recorders = [Recorder() for _ in range(3)]
    batch = requests(tmp_path, {"text": "a"}, {"text": "b"}, {"text": "c"}, recorders=recorders)
    results = await worker.predict_batch("predict_batch", batch)
    assert [r.output for r in results] == ["A", "B", "C"]
    for result, recorder in zip(results, recorders, strict=True):
        assert result.status == "succeeded"
        assert result.metrics["batch_size"] == 3 and result.metrics["seen_in_call"] == 3
        assert result.logs == "batch of 3: a b c\n" == recorder.logs
    single = await worker.predict("one", {"text": "solo"}, tmp_path / "one")
    assert single.output == "SOLO" and "batch_size" not in single.metrics


async def test_an_item_failing_fails_alone(make_worker, tmp_path: Path) -> None:
    worker = make_worker("batch_upper")
    batch = requests(tmp_path, {"text": "a"}, {"text": "b", "fail": True}, {"text": "c"})
    first, second, third = await worker.predict_batch("predict_batch", batch)
    assert (first.status, first.output, third.output) == ("succeeded", "A", "C")
    assert (second.status, second.error, second.output) == ("failed", "cannot shout 'b'", None)


async def test_inputs_the_signature_refuses_fail_alone(make_worker, tmp_path: Path) -> None:
    worker = make_worker("batch_upper")
    batch = requests(tmp_path, {"text": "a"}, {"fail": True})
    ok, missing = await worker.predict_batch("predict_batch", batch)
    assert ok.output == "A" and ok.logs == "batch of 1: a\n"
    assert missing.status == "failed" and "text" in (missing.error or "")


async def test_a_failing_call_fails_every_item(make_worker, tmp_path: Path) -> None:
    worker = make_worker("batch_upper.py:Broken")
    results = await worker.predict_batch(
        "predict_batch", requests(tmp_path, {"text": "a"}, {"text": "b"})
    )
    assert [(r.status, r.error) for r in results] == [("failed", "the whole batch broke")] * 2
    assert all("RuntimeError: the whole batch broke" in r.logs for r in results)
    worker_short = make_worker("batch_upper.py:Short")
    results = await worker_short.predict_batch(
        "predict_batch", requests(tmp_path, {"text": "a"}, {"text": "b"})
    )
    assert all("must return a list of 2 outputs" in (r.error or "") for r in results)


async def test_cancel_one_member_the_others_finish(make_worker, tmp_path: Path) -> None:
    worker, recorders = make_worker("batch_upper"), [Recorder(), Recorder()]
    batch = requests(tmp_path, {"text": "a", "delay": 1}, {"text": "b"}, recorders=recorders)
    task = asyncio.create_task(worker.predict_batch("predict_batch", batch))
    await wait_until(lambda: "batch of 2" in recorders[1].logs)  # the call is running
    assert await worker.cancel("p1") is True
    kept, canceled = await asyncio.wait_for(task, 3)
    assert (kept.status, kept.output) == ("succeeded", "A")
    assert (canceled.status, canceled.output) == ("canceled", None)


async def test_cancel_every_member_stops_the_call(make_worker, tmp_path: Path) -> None:
    worker, recorders = make_worker("batch_upper"), [Recorder(), Recorder()]
    batch = requests(tmp_path, {"text": "a", "delay": 10}, {"text": "b"}, recorders=recorders)
    task = asyncio.create_task(worker.predict_batch("predict_batch", batch))
    await wait_until(lambda: "batch of 2" in recorders[0].logs)
    pid = worker.pid
    await worker.cancel("p0")
    await worker.cancel("p1")
    results = await asyncio.wait_for(task, 3)
    assert [r.status for r in results] == ["canceled", "canceled"]
    assert worker.pid == pid and worker.state.name == "READY"
