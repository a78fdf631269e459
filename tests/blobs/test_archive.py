"""Version archives: stored once at `models add`, reproducible, and unpacked once per cache on
any machine that reaches the file store."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pier.blobs import Blobs, LocalBlobs, open_blobs
from pier.blobs.archive import (
    ArchiveError,
    content_hash,
    ensure_version_dir,
    store_version,
    write_archive,
)
from pier.blobs.keys import version_key
from pier.cli.main import app
from tests.blobs.moto import MotoServer
from tests.conftest import PREDICTORS


def make_model(root: Path) -> Path:
    """A model directory with a nested folder, an executable file, weights of a few MB, and
    things a version leaves out (bytecode, caches)."""
    model = root / "model"
    (model / "weights").mkdir(parents=True)
    shutil.copy(PREDICTORS / "output_path_image.py", model / "predict.py")
    (model / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    (model / "weights" / "w.bin").write_bytes(os.urandom(4 << 20))
    (model / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (model / "run.sh").chmod(0o755)
    (model / "__pycache__").mkdir()
    (model / "__pycache__" / "predict.cpython-311.pyc").write_bytes(b"bytecode")
    (model / "old.pyc").write_bytes(b"bytecode")
    return model


def tree(path: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file a version holds: relative path -> (bytes, executable)."""
    out = {}
    for file in path.rglob("*"):
        relative = file.relative_to(path).as_posix()
        if file.is_file() and "__pycache__" not in relative and not relative.endswith(".pyc"):
            out[relative] = (file.read_bytes(), os.access(file, os.X_OK))
    return out


def test_models_add_stores_one_reproducible_archive(
    tmp_path: Path, s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket()
    model = make_model(tmp_path)
    data_dir = tmp_path / "data"
    args = ["models", "add", str(model), "--name", "test/archived", "--data-dir", str(data_dir)]
    result = CliRunner().invoke(app, [*args, "--files", f"s3://{bucket}/cluster"])
    assert result.exit_code == 0, result.output
    version_id = content_hash(model)
    assert f"test/archived:{version_id} (added)" in result.output
    key = f"cluster/{version_key(version_id)}"
    assert s3_server.keys(bucket) == [key]

    stored = tmp_path / "stored.tar.gz"
    s3_server.client().download_file(bucket, key, str(stored))  # type: ignore[attr-defined]
    # the same bytes from a copy made elsewhere, at another time, with other permissions
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(model, copy)
    os.utime(copy / "predict.py", (0, 0))
    (copy / "weights").chmod(0o700)
    again = tmp_path / "again.tar.gz"
    write_archive(copy, again)
    assert again.read_bytes() == stored.read_bytes()
    with tarfile.open(stored) as tar:
        names = tar.getnames()
        assert names == sorted(names) == ["cog.yaml", "predict.py", "run.sh", "weights/w.bin"]
        assert {m.mtime for m in tar.getmembers()} == {0}
    # the registering machine runs the version from its cache, unpacked from that archive
    assert tree(data_dir / "versions" / version_id) == tree(model)

    # adding it again stores nothing new
    result = CliRunner().invoke(app, [*args, "--files", f"s3://{bucket}/cluster"])
    assert result.exit_code == 0 and "(already registered)" in result.output
    assert s3_server.keys(bucket) == [key]


async def test_ensure_version_dir_reproduces_the_directory_and_reuses_it(
    blobs: Blobs, tmp_path: Path
) -> None:
    model = make_model(tmp_path)
    version_id = content_hash(model)
    store_version(blobs, model, version_id, tmp_path / "registering-cache")
    cache = tmp_path / "worker-cache"  # empty: another machine

    path = await ensure_version_dir(blobs, {"id": version_id}, cache)
    assert path == cache / version_id
    assert tree(path) == tree(model)  # byte for byte, executable bits included
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == [version_id]
    assert not [p for p in cache.iterdir() if p.name.startswith(f".{version_id}")]  # no leftovers

    blobs.delete(version_key(version_id))  # a second call does not need the store at all
    assert await ensure_version_dir(blobs, {"id": version_id}, cache) == path
    assert tree(path) == tree(model)


class CountingBlobs(LocalBlobs):
    """A local store that notes each archive fetched in a file (shared by processes)."""

    def __init__(self, root: Path, counter: Path) -> None:
        super().__init__(root)
        self.counter = counter

    def get_file(self, key: str, target: Path) -> None:
        with self.counter.open("a") as out:
            out.write(f"{os.getpid()} {key}\n")
        super().get_file(key, target)


def _ensure_when_told(root: str, counter: str, cache: str, version_id: str, flags: str) -> str:
    """Runs in another process: says it is ready, waits for the go, then ensures the version."""
    Path(flags, f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 30
    while not Path(flags, "go").exists():
        assert time.monotonic() < deadline
        time.sleep(0.001)
    blobs = CountingBlobs(Path(root), Path(counter))
    return str(asyncio.run(ensure_version_dir(blobs, {"id": version_id}, Path(cache))))


async def test_concurrent_callers_unpack_once(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    version_id = content_hash(model)
    counter = tmp_path / "fetches.txt"
    blobs = CountingBlobs(tmp_path / "store", counter)
    store_version(blobs, model, version_id, tmp_path / "registering-cache")

    # two callers in one process
    cache = tmp_path / "cache-threads"
    paths = await asyncio.gather(
        *(ensure_version_dir(blobs, {"id": version_id}, cache) for _ in range(2))
    )
    assert paths == [cache / version_id] * 2 and tree(paths[0]) == tree(model)
    assert len(counter.read_text().splitlines()) == 1
    counter.unlink()

    # two processes, started together
    cache, flags = tmp_path / "cache-processes", tmp_path / "flags"
    flags.mkdir()
    context = multiprocessing.get_context("spawn")
    args = (str(blobs.root), str(counter), str(cache), version_id, str(flags))
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        futures = [pool.submit(_ensure_when_told, *args) for _ in range(2)]
        deadline = time.monotonic() + 60
        while len(list(flags.glob("ready-*"))) < 2:
            assert time.monotonic() < deadline, "the processes did not start"
            await asyncio.sleep(0.01)
        (flags / "go").touch()
        results = [future.result(timeout=60) for future in futures]
    assert results == [str(cache / version_id)] * 2
    assert len(counter.read_text().splitlines()) == 1
    assert tree(cache / version_id) == tree(model)


async def test_an_archive_that_does_not_match_its_id_is_refused(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    version_id = content_hash(model)
    blobs = open_blobs("", tmp_path / "data")
    (model / "predict.py").write_text("# changed after hashing\n")
    with pytest.raises(ArchiveError):
        store_version(blobs, model, version_id, tmp_path / "cache")
    assert not (tmp_path / "cache" / version_id).exists()
    assert not blobs.exists(version_key(version_id))

    other = tmp_path / "other.tar.gz"
    write_archive(model, other)
    blobs.put_file(version_key(version_id), other)  # an archive under the wrong name
    with pytest.raises(ArchiveError):
        await ensure_version_dir(blobs, {"id": version_id}, tmp_path / "worker")
    assert not (tmp_path / "worker" / version_id).exists()
