"""What every file store offers: bytes under keys, written whole and read as a stream.

The methods block (a disk or a network round trip); async code runs them with
``asyncio.to_thread``. Keys are relative, ``/``-separated paths; pier/blobs/keys.py names them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20  # bytes per chunk of a streamed read


class BlobNotFound(Exception):
    """No bytes are stored under the key."""


class BlobsUnavailable(Exception):
    """The file store cannot be reached (or refuses Pier); the API answers 503."""


class Chunks(Iterator[bytes]):
    """A streamed read, opened already (so a missing key or an outage shows before the first
    byte is sent); close() releases the file or connection when the reader stops early."""

    @abstractmethod
    def __next__(self) -> bytes: ...

    @abstractmethod
    def close(self) -> None: ...


class Blobs(ABC):
    """A flat store of immutable bytes under keys."""

    # Where the bytes live, for messages and logs (a directory, or s3://bucket/prefix).
    location: str

    @abstractmethod
    def put_file(self, key: str, source: Path) -> None:
        """Store a local file's bytes under `key`. The source is consumed: moved or deleted."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def read(self, key: str, start: int = 0, end: int | None = None) -> Chunks:
        """The bytes from `start` up to and including `end` (default: to the last); BlobNotFound."""

    @abstractmethod
    def get_file(self, key: str, target: Path) -> None:
        """Write the bytes under `key` to a local file; BlobNotFound."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The number of bytes under `key`, or None when there is nothing."""

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    @abstractmethod
    def delete(self, key: str) -> None:
        """Forget `key`; nothing happens when nothing is stored under it."""
