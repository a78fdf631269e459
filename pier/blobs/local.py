"""The file store as a local directory (the embedded default: DATA_DIR/files)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from pier.blobs.base import CHUNK, BlobNotFound, Blobs, Chunks


class _FileChunks(Chunks):
    def __init__(self, handle: BinaryIO, remaining: int | None) -> None:
        self.handle = handle
        self.remaining = remaining

    def __next__(self) -> bytes:
        want = CHUNK if self.remaining is None else min(CHUNK, self.remaining)
        chunk = self.handle.read(want) if want else b""
        if not chunk:
            self.close()
            raise StopIteration
        if self.remaining is not None:
            self.remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self.handle.close()


class LocalBlobs(Blobs):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a file store key: {key!r}")
        return self.root.joinpath(*parts)

    def _target(self, key: str) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put_file(self, key: str, source: Path) -> None:
        shutil.move(source, self._target(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        # Written beside the target and renamed, so a reader never sees half the bytes.
        target = self._target(key)
        handle, staging = tempfile.mkstemp(dir=target.parent, prefix=".put-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(staging, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staging)
            raise

    def read(self, key: str, start: int = 0, end: int | None = None) -> Chunks:
        try:
            handle = self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise BlobNotFound(key) from exc
        handle.seek(start)
        return _FileChunks(handle, None if end is None else max(0, end - start + 1))

    def get_file(self, key: str, target: Path) -> None:
        try:
            shutil.copyfile(self.path(key), target)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            if not target.parent.is_dir():
                raise
            raise BlobNotFound(key) from exc

    def size(self, key: str) -> int | None:
        path = self.path(key)
        return path.stat().st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Folders left empty go too (each file has a folder of its own), up to the root.
        folder = path.parent
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                break
            folder = folder.parent
