"""Everything the model writes, from Python, C or subprocesses, reaches its prediction."""

from __future__ import annotations

from pathlib import Path

from .conftest import Recorder


async def test_logs_from_every_source_in_order(make_worker, out_dir: Path) -> None:
    worker, rec = make_worker("logs"), Recorder()
    await worker.ensure_started()
    assert worker.setup_logs == "log during setup\n"
    result = await worker.predict("p", {}, out_dir, rec.events())
    assert result.output == "logged"
    assert result.logs.splitlines() == [
        "from print",
        "from C stdout",
        "from stderr",
        "from C stderr",
        "from a subprocess",
        "no newline at the end",
    ]
    assert rec.logs == result.logs
    assert all(text.endswith("\n") for text in rec.of("log"))
    assert rec.calls[-1] == ("output", "logged")  # every log line came before the output


async def test_each_prediction_gets_only_its_own_logs(make_worker, out_dir: Path) -> None:
    worker = make_worker("logs")
    first = await worker.predict("p1", {}, out_dir)
    second = await worker.predict("p2", {}, out_dir)
    assert first.logs == second.logs
    assert "log during setup" not in first.logs


async def test_async_predictor_logs(make_worker, out_dir: Path) -> None:
    result = await make_worker("logs_async").predict("p", {}, out_dir)
    assert result.logs == "async line 1\nasync line 2\n"


async def test_trailing_partial_line(make_worker, out_dir: Path) -> None:
    result = await make_worker("print_progress_partial").predict("p", {}, out_dir)
    assert result.logs == "half a line\n"


async def test_no_logs_is_fast_and_empty(make_worker, out_dir: Path) -> None:
    worker = make_worker("hello_world")
    results = [await worker.predict(f"p{i}", {}, out_dir) for i in range(20)]
    assert all(r.logs == "" and r.output == "hello world" for r in results)
