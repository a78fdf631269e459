"""`pier worker` beside an API process that runs no models: the API accepts, the worker claims,
runs and reports through the store; waits, cancels and leases cross the process boundary."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from pier import stack
from tests.conftest import Pier, running_pier
from tests.conftest import test_settings as settings_for

from .conftest import redis_url_or_skip

LEASE = 2.0


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Pier]:
    url = redis_url_or_skip()
    async with running_pier(tmp_path, queue=url, workers=0, lease_seconds=LEASE) as pier:
        yield pier


def worker_env(tmp_path: Path, api: Pier) -> dict[str, str]:
    data = api.services.settings.data_dir
    return {
        "PIER_DATABASE": api.services.settings.database_url,
        "PIER_QUEUE": api.services.settings.queue,
        "PIER_FILES": str(data / "files"),
        "PIER_DATA_DIR": str(tmp_path / "worker"),
        "PIER_LEASE_SECONDS": str(LEASE),
        "PIER_PUBLIC_URL": api.services.settings.base_url,
    }


def model_processes(tmp_path: Path) -> list[int]:
    """Model processes whose command line mentions this test's folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "pier.runner.child" in command and str(tmp_path) in command:
            found.append(int(entry.name))
    return found


async def start_worker(exits: AsyncExitStack, tmp_path: Path, api: Pier, **options: object):
    env = worker_env(tmp_path, api)
    settings = settings_for(
        tmp_path,
        data_dir=Path(env["PIER_DATA_DIR"]),
        database=env["PIER_DATABASE"],
        queue=env["PIER_QUEUE"],
        files=env["PIER_FILES"],
        lease_seconds=LEASE,
        public_url=env["PIER_PUBLIC_URL"],
    )
    parts = await exits.enter_async_context(stack.opened(settings, kind="worker", **options))
    return await exits.enter_async_context(stack.running(parts))


async def wait_status(pier: Pier, prediction_id: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await pier.client.get(f"/v1/predictions/{prediction_id}")).json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


async def test_a_worker_runs_what_the_api_accepts(api: Pier, tmp_path: Path) -> None:
    version = await api.add_fixture("t/hello", "hello_world.py")
    await api.add_fixture("t/sleep", "sleep.py")
    # the worker's machine has only the file store: the version comes from its archive
    shutil.rmtree(version["path"])
    queued = await api.create("t/hello", {"text": "early"})
    assert queued.status_code == 201 and queued.json()["status"] == "starting"
    assert queued.json()["queue"]["position"] == 1
    async with AsyncExitStack() as exits:
        worker = await start_worker(exits, tmp_path, api, slots=1)
        done = await api.wait_done(queued.json()["id"])
        assert (done["status"], done["output"]) == ("succeeded", "hello early")
        fast = await api.create("t/hello", {"text": "waited"}, wait=30)
        assert fast.json()["status"] == "succeeded", fast.text
        assert fast.json()["output"] == "hello waited"
        unpacked = Path(worker.settings.data_dir, "versions", version["id"])
        assert (unpacked / "predict.py").is_file()

        # a wait that runs out answers `starting` with no output, even while the job runs:
        # the official clients take any other status as the end
        held = await api.create("t/sleep", {"sleep": 30}, wait=1)
        assert (held.json()["status"], held.json()["output"]) == ("starting", None)
        running = held.json()["id"]
        await wait_status(api, running, "processing")
        started = time.monotonic()
        canceled = await api.client.post(f"/v1/predictions/{running}/cancel")
        assert canceled.status_code == 200
        assert (await api.wait_done(running))["status"] == "canceled"
        assert time.monotonic() - started < 10


async def test_a_killed_worker_fails_its_running_prediction_once_its_lease_runs_out(
    api: Pier, tmp_path: Path
) -> None:
    await api.add_fixture("t/sleep", "sleep.py")
    await api.add_fixture("t/hello", "hello_world.py")
    env = dict(os.environ, **worker_env(tmp_path, api))
    command = [sys.executable, "-m", "pier.cli.main", "worker"]
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        prediction = (await api.create("t/sleep", {"sleep": 60})).json()["id"]
        await wait_status(api, prediction, "processing", timeout=60)
        assert model_processes(tmp_path)  # the worker's model process runs the prediction
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        deadline = time.monotonic() + 10
        while model_processes(tmp_path):  # it dies with its worker
            assert time.monotonic() < deadline, "the model process outlived its worker"
            await asyncio.sleep(0.05)
        ended = await api.wait_done(prediction, timeout=30)
        assert ended["status"] == "failed"
        assert "stopped answering" in ended["error"]
        assert time.monotonic() - killed_at < LEASE * 4
    finally:
        if first.poll() is None:
            first.kill()
    # the next worker carries on with what waits
    waiting = (await api.create("t/hello", {"text": "again"})).json()["id"]
    second = subprocess.Popen(command + ["--burst"], env=env, stderr=subprocess.DEVNULL)
    try:
        assert second.wait(timeout=60) == 0
    finally:
        if second.poll() is None:
            second.kill()
    assert (await api.wait_done(waiting, timeout=5))["output"] == "hello again"


HELD_SETUP = """
import os, time
from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        while os.path.exists({hold!r}):
            time.sleep(0.05)

    def predict(self, text: str = "x") -> str:
        return "set up, then " + text
"""


async def test_a_job_taken_but_not_started_by_a_killed_worker_goes_to_another(
    api: Pier, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    model = tmp_path / "held-setup"
    model.mkdir()
    (model / "predict.py").write_text(HELD_SETUP.format(hold=str(hold)))
    (model / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    await api.add_model("t/held", model)
    env = dict(os.environ, **worker_env(tmp_path, api))
    command = [sys.executable, "-m", "pier.cli.main", "worker"]
    first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        prediction = (await api.create("t/held", {"text": "moved"})).json()["id"]
        deadline = time.monotonic() + 60
        while True:  # the first worker has taken it and is setting the model up
            view = (await api.client.get(f"/v1/predictions/{prediction}")).json()
            if (view.get("queue") or {}).get("phase") == "booting":
                break
            assert time.monotonic() < deadline, view
            await asyncio.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its model process
        first.wait()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    hold.unlink()
    second = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        ended = await api.wait_done(prediction, timeout=60)
        assert (ended["status"], ended["output"]) == ("succeeded", "set up, then moved")
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)
