"""Cog behaviours a model can rely on: output type checks, null-but-required inputs, weights
given as a data: URL, request context, and cancel signals only ever inside predict()."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from pier.jobs import Status


@pytest.mark.parametrize(
    ("value", "status", "output"),
    [("float", Status.SUCCEEDED, 3.0), ("digits", Status.SUCCEEDED, "7"),
     ("none", Status.SUCCEEDED, None), ("foo", Status.FAILED, None),
     ("half", Status.FAILED, None)],
)  # fmt: skip
async def test_output_is_checked_against_the_return_type(
    make_worker, out_dir: Path, value: str, status: Status, output: object
) -> None:
    result = await make_worker("output_wrong_type").predict("p", {"value": value}, out_dir)
    assert (result.status, result.output) == (status, output)
    if status is Status.FAILED:
        assert result.error is not None
        assert result.error.startswith("The return value of predict() is not valid: output: ")
        assert "expected int, got" in result.error


async def test_streamed_items_of_a_user_class_named_output(make_worker, out_dir: Path) -> None:
    result = await make_worker("output_iterator_of_models").predict("p", {}, out_dir)
    assert result.status is Status.SUCCEEDED
    assert result.output == [[{"text": "first"}], [{"text": "second"}, {"text": "third"}]]


async def test_nullable_input_without_default_must_be_given(make_worker, out_dir: Path) -> None:
    worker = make_worker("input_optional_without_default")
    left_out = await worker.predict("p1", {}, out_dir)
    assert left_out.status is Status.FAILED
    assert left_out.error == "file: Field required (it may be null, not left out)"
    given = await worker.predict("p2", {"file": None}, out_dir)
    assert (given.status, given.output) == (Status.SUCCEEDED, "file=False note=None")


@pytest.mark.parametrize(
    ("fixture", "output"),
    [("setup_weights_file", "hello weights"), ("setup_weights", "Path:hello weights")],
)
async def test_data_url_weights_arrive_as_the_declared_type(
    make_worker, out_dir: Path, fixture: str, output: str
) -> None:
    url = "data:text/plain;base64," + base64.b64encode(b"hello weights").decode()
    worker = make_worker(fixture, env={"COG_WEIGHTS": url})
    result = await worker.predict("p", {}, out_dir)
    assert (result.status, result.output) == (Status.SUCCEEDED, output)


async def test_request_context_reaches_a_class_predictor(make_worker, out_dir: Path) -> None:
    worker = make_worker("with_context_class")
    result = await worker.predict("p9", {}, out_dir, context={"id": "p9", "prefix": "hi"})
    assert result.output == "hi world (p9)"


async def test_processes_started_in_setup_never_die_of_the_cancel_signal(
    make_worker, out_dir: Path
) -> None:
    """The first prediction comes right after setup, while the shell setup() started may not
    have set its trap yet; predict() signals it at once. It must survive every time."""

    async def one_model(n: int) -> list[Status]:
        worker = make_worker("setup_subprocess_trap")
        statuses = []
        for i in range(3):
            result = await worker.predict(f"m{n}-{i}", {}, out_dir)
            assert result.error is None, result.error
            statuses.append(result.status)
        return statuses

    runs = await asyncio.gather(*(one_model(n) for n in range(8)))
    assert all(status is Status.SUCCEEDED for statuses in runs for status in statuses)
