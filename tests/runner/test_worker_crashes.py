"""A model process that dies mid-prediction: a clear error, then a fresh process."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from pier.runner.worker import WorkerState

from .conftest import Recorder, wait_until


@pytest.mark.parametrize(
    ("ref", "flag", "message"),
    [
        ("exit_in_predict", "exit", "The model process exited with code 3 during the prediction"),
        (
            "os_exit_in_predict",
            "exit",
            "The model process exited with code 5 during the prediction",
        ),
        ("killed_in_predict", "kill", "was killed by signal SIGKILL (out of memory?) during the"),
        ("segfault_in_predict", "crash", "crashed with a segmentation fault"),
    ],
)
async def test_crash_fails_the_prediction_and_the_next_one_works(
    make_worker, out_dir: Path, ref: str, flag: str, message: str
) -> None:
    worker = make_worker(ref)
    await worker.ensure_started()
    first_pid = worker.pid
    result = await worker.predict("p1", {flag: True}, out_dir)
    assert result.status == "failed"
    assert message in (result.error or "")
    assert worker.state is WorkerState.DEFUNCT
    await worker.ensure_started()
    assert worker.pid != first_pid
    again = await worker.predict("p2", {flag: False}, out_dir)
    assert again.status == "succeeded"


@pytest.mark.parametrize(
    ("ref", "flag", "logs"),
    [
        ("exit_in_predict", "exit", "exiting now\n"),
        ("os_exit_in_predict", "exit", "vanishing now\n"),
        ("segfault_in_predict", "crash", "Fatal Python error: Segmentation fault"),
    ],
)
async def test_a_crash_keeps_the_last_logs(
    make_worker, out_dir: Path, ref: str, flag: str, logs: str
) -> None:
    rec = Recorder()
    result = await make_worker(ref).predict("p", {flag: True}, out_dir, rec.events())
    assert logs in result.logs and rec.logs == result.logs


async def test_exception_fails_only_that_prediction(make_worker, out_dir: Path) -> None:
    worker = make_worker("exc_in_predict")
    await worker.ensure_started()
    pid = worker.pid
    result = await worker.predict("p1", {"fail": True}, out_dir)
    assert (result.status, result.error) == ("failed", "bad things happened")
    assert result.logs.startswith("about to fail\nTraceback (most recent call last):")
    assert "ValueError: bad things happened" in result.logs
    assert worker.state is WorkerState.READY and worker.pid == pid
    ok = await worker.predict("p2", {"fail": False}, out_dir)
    assert (ok.status, ok.output, ok.logs) == ("succeeded", "fine", "about to fail\n")


async def test_exception_without_message_names_its_class(make_worker, out_dir: Path) -> None:
    result = await make_worker("exc_in_predict_empty").predict("p", {}, out_dir)
    assert (result.status, result.error) == ("failed", "KeyError")


async def test_output_that_is_not_json_fails_clearly(make_worker, out_dir: Path) -> None:
    result = await make_worker("output_unserializable").predict("p", {}, out_dir)
    assert result.status == "failed"
    assert result.error == "The output of type object cannot be sent as JSON"


async def test_output_nested_too_deep_fails_clearly(make_worker, out_dir: Path) -> None:
    worker = make_worker("output_nested_deep")
    deep = await worker.predict("p", {"depth": 480}, out_dir)
    assert deep.status == "failed"
    assert deep.error is not None and "nested more than 100 levels" in deep.error
    fine = await worker.predict("q", {"depth": 90}, out_dir)
    assert fine.status == "succeeded"
    value, levels = fine.output, 0
    while isinstance(value, list):
        value, levels = value[0], levels + 1
    assert (value, levels) == ("leaf", 90)


async def test_missing_required_input_fails_clearly(make_worker, out_dir: Path) -> None:
    result = await make_worker("input_string").predict("p", {}, out_dir)
    assert (result.status, result.error) == ("failed", "missing required input 'text'")


async def test_a_process_that_dies_while_idle_is_replaced(make_worker, out_dir: Path) -> None:
    worker = make_worker("hello_world")
    await worker.ensure_started()
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await wait_until(lambda: worker.state is WorkerState.DEFUNCT)
    result = await worker.predict("p", {"text": "again"}, out_dir)
    assert result.output == "hello again" and worker.pid != pid
