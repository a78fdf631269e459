"""A model version's directory as one archive in the file store, and its local cache.

A version's id is the sha256 content hash of its directory (every file's relative path and
bytes). At `models add` the directory is packed into a reproducible tar.gz (sorted entries, no
times, owners or other modes than 644/755), unpacked into the registering machine's cache and
stored under `versions/{id}.tar.gz`. Any machine gets the directory with `ensure_version_dir`,
which fetches and unpacks the archive once per cache directory: unpacked beside the target,
checked against the hash and renamed into place, under a lock file, so two processes never unpack
the same version at once and nobody sees half a directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pier.blobs.base import Blobs
from pier.blobs.keys import version_key

IGNORED = {"__pycache__", ".git", ".cog", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
LOCKS = ".locks"


class ArchiveError(Exception):
    """A version archive whose content does not match its version id."""


def version_files(path: Path) -> list[Path]:
    """Every file that makes up a version: links followed, caches and bytecode left out."""
    found = []
    for root, dirs, names in os.walk(path, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED)
        found += [Path(root) / n for n in names if not n.endswith(".pyc")]
    return sorted(found, key=lambda file: file.relative_to(path).as_posix())


def content_hash(path: Path) -> str:
    """sha256 over every file's relative path and bytes, in a stable order."""
    digest = hashlib.sha256()
    for file in version_files(path):
        relative = file.relative_to(path).as_posix()
        digest.update(relative.encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def write_archive(source: Path, target: Path) -> None:
    """Pack a version directory into a tar.gz whose bytes depend only on the files' content."""
    with target.open("wb") as raw, gzip.GzipFile("", "wb", 6, raw, mtime=0) as packed:
        with tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for file in version_files(source):
                info = tarfile.TarInfo(file.relative_to(source).as_posix())
                info.size = file.stat().st_size
                info.mode = 0o755 if os.access(file, os.X_OK) else 0o644
                info.mtime = 0
                with file.open("rb") as handle:
                    tar.addfile(info, handle)


@contextlib.contextmanager
def _locked(cache_dir: Path, version_id: str) -> Iterator[None]:
    """Held by one caller at a time, across threads and processes (flock on a lock file)."""
    locks = cache_dir / LOCKS
    locks.mkdir(parents=True, exist_ok=True)
    with (locks / version_id).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_version(version_id: str, cache_dir: Path, fetch: Callable[[Path], None]) -> bool:
    """Make `cache_dir/{version_id}` from the archive `fetch` writes to the path it is given,
    unless it is there already. True when this call unpacked it."""
    target = cache_dir / version_id
    if target.is_dir():
        return False
    with _locked(cache_dir, version_id):
        if target.is_dir():  # another caller finished while this one waited
            return False
        staging = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{version_id}-"))
        try:
            archive = staging / "archive.tar.gz"
            fetch(archive)
            unpacked = staging / "dir"
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(unpacked, filter="data")
            actual = content_hash(unpacked)
            if actual != version_id:
                raise ArchiveError(
                    f"the archive of version {version_id} holds different content ({actual})"
                )
            unpacked.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return True


def store_version(blobs: Blobs, source: Path, version_id: str, cache_dir: Path) -> Path:
    """Archive a directory as version `version_id`: unpacked into the cache (from the archive,
    so what runs here is what runs anywhere) and stored in the file store if it is not yet."""
    key, target = version_key(version_id), cache_dir / version_id
    if target.is_dir() and blobs.exists(key):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=cache_dir, prefix=f".{version_id}-", suffix=".tar.gz")
    os.close(handle)
    archive = Path(name)
    try:
        write_archive(source, archive)
        install_version(version_id, cache_dir, lambda into: _link_or_copy(archive, into))
        if not blobs.exists(key):
            blobs.put_file(key, archive)
    finally:
        archive.unlink(missing_ok=True)
    return target


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def code_version(version: Mapping[str, Any]) -> str:
    """The id of the version whose archive holds a version's code: its own, or for a version a
    training made (same code, new weights), that of the pushed version the code came from."""
    source = version.get("source") or {}
    return str(source.get("code_version") or version["id"])


async def ensure_version_dir(blobs: Blobs, version: Mapping[str, Any], cache_dir: Path) -> Path:
    """The local directory of a version's code, fetched from the file store and unpacked on
    first use."""
    version_id = code_version(version)

    def fetch(into: Path) -> None:
        blobs.get_file(version_key(version_id), into)

    def ensure() -> Path:
        cache_dir.mkdir(parents=True, exist_ok=True)
        install_version(version_id, cache_dir, fetch)
        return cache_dir / version_id

    return await asyncio.to_thread(ensure)
