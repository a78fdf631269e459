"""Inputs arrive as the annotated Python types; scope context, metrics and progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Recorder


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    made = []
    for i in range(2):
        path = tmp_path / f"in{i}.txt"
        path.write_text(f"content {i}")
        made.append(path)
    return made


@pytest.mark.parametrize(
    ("ref", "inputs", "expected"),
    [
        ("input_float", {"scale": 2}, "float:2.0"),
        ("input_float", {}, "float:1.5"),
        ("input_optional", {}, "None|None|None"),
        ("input_optional", {"count": 3, "seed": 9}, "3|None|9"),
        ("input_union", {"words": ["a", "b"]}, "a,b"),
        ("input_union", {"words": "solo"}, "solo"),
        ("input_union", {}, "one"),
        ("input_kwargs", {"a": 1, "b": [2]}, {"a": 1, "b": [2]}),
        ("input_choices_integer", {"steps": 20}, 20),
        ("input_literal", {}, "fast"),
    ],
)
async def test_input_values(make_worker, out_dir: Path, ref: str, inputs: dict, expected) -> None:
    result = await make_worker(ref).predict("p", inputs, out_dir)
    assert (result.status, result.output) == ("succeeded", expected), result.error


async def test_path_and_file_inputs(make_worker, out_dir: Path, files: list[Path]) -> None:
    path = await make_worker("input_path").predict("p", {"image": str(files[0])}, out_dir)
    assert path.output == "in0.txt:content 0"
    handle = await make_worker("input_file").predict("p", {"data": str(files[1])}, out_dir)
    assert handle.output == "content 1"
    many = make_worker("input_list_of_paths")
    listed = await many.predict("p", {"files": [str(f) for f in files]}, out_dir)
    assert listed.output == ["Path:content 0", "Path:content 1"]
    optional = await make_worker("input_optional").predict("p", {"image": str(files[0])}, out_dir)
    assert optional.output == f"None|{files[0]}|None"


async def test_secret_input_is_masked_when_printed(make_worker, out_dir: Path) -> None:
    result = await make_worker("input_secret").predict("p", {"token": "abc123"}, out_dir)
    assert result.output == "**********|321cba"
    assert result.logs == "token is **********\n"


async def test_context_reaches_the_scope(make_worker, out_dir: Path) -> None:
    worker = make_worker("with_context.py:predict")
    result = await worker.predict("p", {"text": "t"}, out_dir, context={"id": "p", "k": "v"})
    assert result.output == {"text": "t", "context": {"id": "p", "k": "v"}}


async def test_metrics(make_worker, out_dir: Path) -> None:
    rec = Recorder()
    result = await make_worker("record_metric").predict("p", {}, out_dir, rec.events())
    assert rec.of("metric") == [("tokens", 42), ("temperature", 0.7)]
    assert result.metrics["tokens"] == 42 and result.metrics["temperature"] == 0.7
    assert result.metrics["predict_time"] > 0


async def test_progress_reported_by_the_model(make_worker, out_dir: Path) -> None:
    rec = Recorder()
    await make_worker("set_progress").predict("p", {"steps": 4}, out_dir, rec.events())
    assert rec.of("progress") == [(25.0, 1, 4), (50.0, 2, 4), (75.0, 3, 4), (100.0, 4, 4)]


async def test_progress_from_tqdm_logs(make_worker, out_dir: Path) -> None:
    rec = Recorder()
    result = await make_worker("tqdm_progress").predict("p", {"steps": 4}, out_dir, rec.events())
    assert result.status == "succeeded"
    progress = rec.of("progress")
    assert progress and progress[-1] == (100.0, 4, 4)
    assert [p[1] for p in progress] == sorted(p[1] for p in progress)
    assert "\r" not in result.logs and "4/4" in result.logs.splitlines()[-1]
