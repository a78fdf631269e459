"""Outputs: single values, streamed iterators, files, structured values."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image

from pier.runner.messages import FILE_KEY

from .conftest import Recorder, wait_until


def file_of(value: dict) -> Path:
    assert set(value) == {FILE_KEY}
    return Path(value[FILE_KEY])


@pytest.mark.parametrize(
    ("ref", "inputs", "expected"),
    [
        ("yield_strings", {}, ["foo", "bar", "baz"]),
        ("concatenate_iterator", {"prompt": "a b"}, ["a ", "b "]),
        ("async_generator", {"n": 3}, ["a0 ", "a1 ", "a2 "]),
        ("count_up", {"upto": 4}, [0, 1, 2, 3]),
    ],
)
async def test_iterators(make_worker, out_dir: Path, ref: str, inputs: dict, expected) -> None:
    rec = Recorder()
    result = await make_worker(ref).predict("p", inputs, out_dir, rec.events())
    assert (result.status, result.output) == ("succeeded", expected)
    assert rec.of("kind") == [True]
    assert rec.of("output") == expected


@pytest.mark.parametrize("ref", ["count_up", "async_generator"])
async def test_items_arrive_before_the_prediction_ends(make_worker, out_dir: Path, ref) -> None:
    worker, rec = make_worker(ref), Recorder()
    await worker.ensure_started()
    inputs = {"upto": 3, "delay": 0.4} if ref == "count_up" else {"n": 3, "delay": 0.4}
    task = asyncio.create_task(worker.predict("p", inputs, out_dir, rec.events()))
    await wait_until(lambda: len(rec.of("output")) >= 1)
    assert not task.done()
    result = await task
    assert len(result.output) == 3


async def test_single_value(make_worker, out_dir: Path) -> None:
    rec = Recorder()
    result = await make_worker("input_bool").predict("p", {"flag": True}, out_dir, rec.events())
    assert result.output is False
    assert rec.calls == [("kind", False), ("output", False)]


async def test_path_output_is_copied_into_the_output_dir(make_worker, out_dir: Path) -> None:
    result = await make_worker("output_path_image").predict("p", {"color": "red"}, out_dir)
    path = file_of(result.output)
    assert path.parent == out_dir and path.name == "out.png"
    assert Image.open(path).getpixel((0, 0)) == (255, 0, 0)


async def test_list_of_paths_with_clashing_names(make_worker, out_dir: Path) -> None:
    result = await make_worker("output_list_of_paths").predict("p", {}, out_dir)
    paths = [file_of(v) for v in result.output]
    assert len(set(paths)) == 3 and all(p.parent == out_dir for p in paths)
    assert [p.read_text() for p in paths] == ["file 0", "file 1", "file 2"]


async def test_yielded_files_keep_their_own_content(make_worker, out_dir: Path) -> None:
    result = await make_worker("yield_files").predict("p", {}, out_dir)
    colors = [Image.open(file_of(v)).getpixel((0, 0)) for v in result.output]
    assert colors == [(255, 0, 0), (0, 0, 255), (255, 255, 0)]


async def test_basemodel_output(make_worker, out_dir: Path) -> None:
    result = await make_worker("output_basemodel").predict("p", {}, out_dir)
    value = dict(result.output)
    assert file_of(value.pop("file")).read_text() == "payload"
    assert value == {"text": "hi", "score": 0.5, "note": None, "tags": ["a", "b"]}


async def test_numpy_and_other_python_values(make_worker, out_dir: Path) -> None:
    numpy = await make_worker("output_numpy").predict("p", {}, out_dir)
    assert numpy.output == {"f": 1.5, "i": 7, "a": [0, 1, 2], "m": [[1.0, 0.0], [0.0, 1.0]]}
    other = await make_worker("output_dict").predict("p", {}, out_dir)
    assert other.output == {
        "color": "red",
        "when": "2024-01-02T03:04:05+00:00",
        "pair": [1, 2],
        "nested": {"ok": True},
    }


async def test_large_outputs_and_logs_stay_in_order(make_worker, out_dir: Path) -> None:
    rec = Recorder()
    result = await make_worker("stream_large").predict("p", {}, out_dir, rec.events())
    assert result.output == [c * 60_000 for c in "abc"]
    order = [(k, v[0]) for k, v in rec.calls if k in ("log", "output")]
    assert order == [("log", "a"), ("output", "a"), ("log", "b"), ("output", "b")] + [
        ("log", "c"),
        ("output", "c"),
    ]
    assert result.logs == "".join(c * 60_000 + "\n" for c in "abc")
