"""Starting, setup, setup failures, stopping."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pier.runner.errors import SetupFailed
from pier.runner.worker import WorkerState

from .conftest import PREDICTORS, wait_until


def running(pid: int) -> bool:
    """True for a live process (a zombie left for init to reap counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def test_setup_runs_once_and_state_survives(make_worker, out_dir: Path) -> None:
    worker = make_worker("setup")
    assert worker.state is WorkerState.NEW
    await worker.ensure_started()
    assert worker.state is WorkerState.READY
    assert worker.setup_logs == "setup ran\n"
    assert worker.setup_time is not None and worker.setup_time >= 0
    first = await worker.predict("p1", {}, out_dir)
    second = await worker.predict("p2", {}, out_dir)
    assert (first.output, second.output) == ("bar1", "bar2")
    assert first.logs == "" and worker.state is WorkerState.READY
    assert first.metrics["predict_time"] > 0


async def test_predict_starts_the_worker_when_needed(make_worker, out_dir: Path) -> None:
    worker = make_worker("hello_world")
    result = await worker.predict("p1", {"text": "there"}, out_dir)
    assert (result.status, result.output, result.error) == ("succeeded", "hello there", None)


async def test_function_predictor(make_worker, out_dir: Path) -> None:
    worker = make_worker("function.py:predict")
    result = await worker.predict("p1", {"text": "baz"}, out_dir)
    assert result.output == "hello baz"


async def test_async_setup_and_predict_share_one_loop(make_worker, out_dir: Path) -> None:
    worker = make_worker("async_setup_predict")
    for i in range(2):
        result = await worker.predict(f"p{i}", {"text": "t"}, out_dir)
        assert result.output == "t:same loop"


@pytest.mark.parametrize(
    ("ref", "message", "logs"),
    [
        ("exc_in_setup", "Error in setup(): RuntimeError: could not load weights", "loading"),
        ("exc_on_import", "ImportError: this model needs a package", "Traceback"),
        ("exit_in_setup", "The model process exited with code 4 during setup", "giving up"),
        ("exit_on_import", "The model process exited with code 7 during setup", ""),
        ("missing_predictor", "Cannot find 'Predictor' in missing_predictor.py", ""),
        ("no_such_file", "Cannot find no_such_file.py", ""),
    ],
)
async def test_setup_failures(make_worker, ref: str, message: str, logs: str) -> None:
    worker = make_worker(ref)
    with pytest.raises(SetupFailed) as caught:
        await worker.ensure_started()
    assert message in caught.value.message
    assert logs in caught.value.logs
    assert worker.state is WorkerState.SETUP_FAILED


async def test_setup_failure_is_remembered_then_retried(make_worker) -> None:
    worker = make_worker("exc_in_setup", setup_retry_after=60.0)
    with pytest.raises(SetupFailed):
        await worker.ensure_started()
    started = time.monotonic()
    with pytest.raises(SetupFailed) as again:
        await worker.ensure_started()
    assert time.monotonic() - started < 0.1  # answered from memory, no new process
    assert "could not load weights" in again.value.message
    assert "loading weights" in again.value.logs

    retrying = make_worker("exc_in_setup", setup_retry_after=0.0)
    for _ in range(2):
        with pytest.raises(SetupFailed):
            await retrying.ensure_started()


async def test_concurrent_starts_share_one_process(make_worker) -> None:
    worker = make_worker("slow_setup")
    first = asyncio.create_task(worker.ensure_started())
    await asyncio.sleep(0.05)
    assert worker.state is WorkerState.STARTING
    pid = worker.pid
    await asyncio.gather(first, worker.ensure_started())
    assert worker.state is WorkerState.READY and worker.pid == pid


async def test_module_sees_clean_argv(make_worker, out_dir: Path) -> None:
    result = await make_worker("argv_override").predict("p", {}, out_dir)
    assert result.output == "argv was clean"


async def test_cog_imports_resolve_to_pier(make_worker, out_dir: Path) -> None:
    result = await make_worker("cog_imports").predict("p", {}, out_dir)
    assert result.output == "shim ok: True"


async def test_future_annotations(make_worker, out_dir: Path) -> None:
    result = await make_worker("future_annotations").predict("p", {"text": "x"}, out_dir)
    assert result.output == ["x", "x"]


async def test_setup_weights_from_env(make_worker, out_dir: Path, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_text("w1")
    with_weights = make_worker("setup_weights", env={"COG_WEIGHTS": str(weights)})
    assert (await with_weights.predict("p", {}, out_dir)).output == "Path:w1"
    without = make_worker("setup_weights", env={"COG_WEIGHTS": ""})
    assert (await without.predict("p", {}, out_dir)).output == "no weights"


async def test_train_mode(make_worker, out_dir: Path) -> None:
    worker = make_worker("train.py:train", mode="train")
    result = await worker.predict("t1", {"n": 3}, out_dir)
    assert result.status == "succeeded", result.error
    weights = Path(result.output["weights"]["__pier_file__"])
    assert weights.parent == out_dir and weights.read_text() == "www"


async def test_stop_ends_the_process_and_what_it_started(make_worker, out_dir: Path) -> None:
    worker = make_worker("setup_subprocess")
    result = await worker.predict("p", {}, out_dir)
    assert result.logs == "predicting\n"
    background = int(result.output.rsplit(" ", 1)[1])
    pid = worker.pid
    assert pid is not None
    await worker.stop()
    assert worker.state is WorkerState.STOPPED and worker.pid is None
    await wait_until(lambda: not running(pid) and not running(background), timeout=5)
    await worker.ensure_started()  # a stopped worker can be started again
    assert worker.state is WorkerState.READY


def test_fixture_directory_exists() -> None:
    assert (PREDICTORS / "hello_world.py").is_file()


async def test_setup_timeout(make_worker) -> None:
    worker = make_worker("slow_setup", setup_timeout=0.2)
    with pytest.raises(SetupFailed, match=r"setup\(\) did not finish within 0.2 s"):
        await worker.ensure_started()
    assert worker.state is WorkerState.SETUP_FAILED and worker.pid is None


async def test_giving_up_on_a_start_leaves_no_process(make_worker, out_dir: Path) -> None:
    worker = make_worker("slow_setup")
    task = asyncio.create_task(worker.ensure_started())
    await wait_until(lambda: worker.pid is not None)
    pid = worker.pid
    assert pid is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert worker.state is WorkerState.DEFUNCT
    await wait_until(lambda: not running(pid))
    assert (await worker.predict("p", {}, out_dir)).output == "ready"


async def test_one_prediction_at_a_time(make_worker, out_dir: Path) -> None:
    worker = make_worker("sleep")
    await worker.ensure_started()
    first = asyncio.create_task(worker.predict("p1", {"sleep": 30}, out_dir))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="busy with prediction p1"):
        await worker.predict("p2", {"sleep": 0}, out_dir)
    await worker.cancel("p1")
    assert (await first).status == "canceled"
