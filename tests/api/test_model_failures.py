"""How model failures reach the API: errors, crashes, setup failures, timeouts, secrets, files."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from pier.registry import ModelDirError
from tests.conftest import Pier, model_dir, running_pier


async def test_exception_in_predict_fails_with_message_and_traceback_in_logs(pier: Pier) -> None:
    await pier.add_fixture("t/exc", "exc_in_predict.py")
    body = (await pier.create("t/exc", {}, wait=30)).json()
    assert body["status"] == "failed"
    assert body["error"]
    assert "Traceback" in body["logs"]
    assert body["completed_at"] and "predict_time" in body["metrics"]


async def test_killed_worker_fails_clearly_then_recovers(pier: Pier) -> None:
    await pier.add_fixture("t/killed", "killed_in_predict.py")
    body = (await pier.create("t/killed", {"kill": True}, wait=30)).json()
    assert body["status"] == "failed"
    assert "SIGKILL" in body["error"]
    again = (await pier.create("t/killed", {"kill": False}, wait=30)).json()
    assert again["status"] == "succeeded" and again["output"] == "survived"


async def test_setup_failure_fails_predictions_quickly(pier: Pier) -> None:
    await pier.add_fixture("t/setup", "exc_in_setup.py")
    first = (await pier.create("t/setup", {}, wait=30)).json()
    assert first["status"] == "failed" and first["error"].startswith("Setup failed")
    started = asyncio.get_running_loop().time()
    second = (await pier.create("t/setup", {}, wait=30)).json()
    assert second["status"] == "failed" and second["error"] == first["error"]
    assert asyncio.get_running_loop().time() - started < 2


async def test_prediction_timeout(tmp_path: Path) -> None:
    async with running_pier(tmp_path, prediction_timeout=1.0) as pier:
        await pier.add_fixture("t/sleep", "sleep.py")
        body = (await pier.create("t/sleep", {"sleep": 30}, wait=30)).json()
        assert body["status"] == "failed"
        assert "timed out" in body["error"]


async def test_secret_is_masked_in_the_prediction_but_reaches_the_model(pier: Pier) -> None:
    await pier.add_fixture("t/secret", "input_secret.py")
    body = (await pier.create("t/secret", {"token": "abc123"}, wait=30)).json()
    assert body["status"] == "succeeded", body
    assert body["input"]["token"] == "**********"
    assert body["output"] == "**********|321cba"
    assert "abc123" not in body["logs"]


async def test_iterator_of_files_keeps_each_item(pier: Pier) -> None:
    await pier.add_fixture("t/frames", "yield_files.py")
    body = (await pier.create("t/frames", {}, wait=30)).json()
    assert body["status"] == "succeeded", body
    colors = []
    for url in body["output"]:
        image = await pier.client.get(url.removeprefix(pier.services.base_url))
        colors.append(Image.open(io.BytesIO(image.content)).getpixel((0, 0)))
    assert colors == [(255, 0, 0), (0, 0, 255), (255, 255, 0)]


async def test_fifo_order_and_several_workers(tmp_path: Path) -> None:
    async with running_pier(tmp_path, workers=2) as pier:
        await pier.add_builtin("slow")
        ids = [
            (await pier.create("pier/slow", {"steps": 1, "delay": 0.2})).json()["id"]
            for _ in range(4)
        ]
        done = [await pier.wait_done(i) for i in ids]
        starts = [d["started_at"] for d in done]
        # first in, first out: the first two run (in either order: each worker boots on its
        # own) before the last two, which start in the order they were queued
        assert max(starts[:2]) < min(starts[2:])
        assert starts[2] <= starts[3]
        # two workers: the first two overlap in time
        assert done[1]["started_at"] < done[0]["completed_at"]


async def test_bad_model_directories_are_refused(pier: Pier, tmp_path: Path) -> None:
    with pytest.raises(ModelDirError, match="cog.yaml"):
        await pier.add_model("t/empty", tmp_path)
    with pytest.raises(ModelDirError, match="owner/name"):
        await pier.add_model("NoSlash", model_dir(tmp_path, "hello_world.py"))
