"""Files: uploads, prediction outputs, and fetching file inputs.

Every file is a row in the store plus bytes in the file store (pier/blobs: DATA_DIR/files, or an
S3-compatible bucket) under the key ``<id>/<name>``. Each file has a
public token: ``/files/<token>/<name>`` serves its bytes without authentication, so the official
clients (which fetch outputs without a token) can read them; the token is 256 random bits.

Uploads expire (``file_expiry_seconds``): once expired they are no longer served, and a sweep
deletes their rows and bytes. Files that belong to a prediction (its outputs, and inputs that
arrived as large ``data:`` URIs) live as long as the prediction.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import secrets
import tempfile
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from pier.blobs import BlobNotFound, Blobs, BlobsUnavailable, Chunks
from pier.blobs.keys import file_key, key_of
from pier.store import Row, Store
from pier.util import new_id, utcnow

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftyp", 4, "video/mp4"),
    (b"WAVE", 8, "audio/wav"),
    (b"%PDF", 0, "application/pdf"),
    (b"ID3", 0, "audio/mpeg"),
    (b"OggS", 0, "audio/ogg"),
)

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_B64_URLSAFE = str.maketrans("-_", "+/")
FILE_TTL = timedelta(days=1)
# A data: URI input longer than this is stored as a file when the prediction is created, so the
# prediction's record holds a short link instead of the bytes.
DATA_URI_INLINE_CHARS = 64 * 1024
SWEEP_BATCH = 500


class FileError(Exception):
    """A file input that cannot be used; the message is shown to the user."""


class FileTooLarge(FileError):
    pass


def sniff_content_type(head: bytes, name: str, declared: str | None = None) -> str:
    """The content type the bytes show; else the declared one; else a guess from the name."""
    for magic, offset, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if declared and declared != "application/octet-stream":
        # A declared binary media type the bytes do not confirm is not trusted.
        if not declared.startswith(("image/", "video/", "audio/")):
            return declared
    guessed = mimetypes.guess_type(name)[0]
    if guessed and not guessed.startswith(("image/", "video/", "audio/")):
        return guessed
    return "application/octet-stream"


def safe_name(name: str) -> str:
    cleaned = _SAFE_NAME.sub("_", Path(name).name).strip("._") or "file"
    return cleaned[-200:]


def decode_data_uri(url: str) -> tuple[str, bytes]:
    """The media type and bytes of a `data:` URI; FileError (with the reason) if malformed.

    Base64 may be wrapped over lines, percent-encoded, URL-safe or unpadded, as browsers accept
    it; anything else that is not base64 is refused rather than silently dropped.
    """
    if not url.startswith("data:"):
        raise FileError("not a data: URI")
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise FileError("Malformed data: URI (no comma between the media type and the data)")
    params = [part.strip() for part in header.split(";")]
    mime = params[0].lower() or "text/plain"
    if "base64" not in (part.lower() for part in params[1:]):
        return mime, urllib.parse.unquote_to_bytes(payload)
    try:
        return mime, base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        pass
    text = urllib.parse.unquote(payload) if "%" in payload else payload
    text = "".join(text.split()).rstrip("=").translate(_B64_URLSAFE)
    try:
        return mime, base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        bad = next((c for c in text if not (c.isascii() and (c.isalnum() or c in "+/="))), None)
        reason = f"it contains {bad!r}" if bad is not None else "its length is not valid"
        raise FileError(f"The data: URI is not valid base64 ({reason})") from exc


def _extension(mime: str) -> str:
    return mimetypes.guess_extension(mime) or ""


@dataclass
class FileStore:
    """Files as rows in the store plus bytes in the file store (`blobs`) under `{id}/{name}`;
    a row's `path` holds that key."""

    blobs: Blobs
    store: Store
    max_bytes: int
    scratch: Path  # where uploads are spooled before they are stored
    ttl: timedelta = FILE_TTL  # how long an upload is kept
    _sweeper: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def _spool(self) -> Path:
        self.scratch.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.scratch, prefix="upload-")
        os.close(handle)
        return Path(name)

    async def save(
        self,
        account_id: str,
        chunks: AsyncIterator[bytes],
        name: str,
        content_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        prediction_id: str | None = None,
    ) -> Row:
        file_id, name = new_id(), safe_name(name)
        sha256, md5, size, head = hashlib.sha256(), hashlib.md5(), 0, b""
        spool = self._spool()
        try:
            with spool.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FileTooLarge(f"Files must be at most {self.max_bytes} bytes")
                    if len(head) < 64:
                        head += chunk[: 64 - len(head)]
                    sha256.update(chunk)
                    md5.update(chunk)
                    out.write(chunk)
            await asyncio.to_thread(self.blobs.put_file, file_key(file_id, name), spool)
        finally:
            spool.unlink(missing_ok=True)
        row = self._row(
            file_id,
            account_id,
            name,
            size,
            sha256.hexdigest(),
            md5.hexdigest(),
            sniff_content_type(head, name, content_type),
            metadata or {},
            prediction_id,
        )
        await self._insert(row)
        return row

    async def save_data_uri(self, account_id: str, url: str, prediction_id: str) -> Row:
        """Store a `data:` URI's bytes as a file of a prediction (FileError if malformed)."""
        file_id = new_id()

        def write() -> tuple[str, int, bytes, str, str]:
            mime, data = decode_data_uri(url)
            if len(data) > self.max_bytes:
                raise FileTooLarge(f"Files must be at most {self.max_bytes} bytes")
            name = "input" + _extension(mime)
            self.blobs.put_bytes(file_key(file_id, name), data)
            digests = hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()
            return name, len(data), data[:64], *digests

        name, size, head, sha256, md5 = await asyncio.to_thread(write)
        row = self._row(
            file_id,
            account_id,
            name,
            size,
            sha256,
            md5,
            sniff_content_type(head, name),
            {},
            prediction_id,
        )
        await self._insert(row)
        return row

    async def _insert(self, row: Row) -> None:
        try:
            await self.store.insert_file(row)
        except BaseException:
            await asyncio.to_thread(self.blobs.delete, row["path"])
            raise

    def prepare_output(self, account_id: str, source: Path, prediction_id: str) -> Row:
        """Move a file a model wrote into the file store as an output of a prediction.

        Blocks (hashing, and an upload for a remote store): called on a worker thread."""
        file_id, name = new_id(), safe_name(source.name)
        sha256, md5 = hashlib.sha256(), hashlib.md5()
        with source.open("rb") as handle:
            head = handle.read(64)
            handle.seek(0)
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha256.update(block)
                md5.update(block)
        size = source.stat().st_size
        self.blobs.put_file(file_key(file_id, name), source)
        return self._row(
            file_id,
            account_id,
            name,
            size,
            sha256.hexdigest(),
            md5.hexdigest(),
            sniff_content_type(head, name),
            {},
            prediction_id,
        )

    def _row(
        self,
        file_id: str,
        account_id: str,
        name: str,
        size: int,
        sha256: str,
        md5: str,
        content_type: str,
        metadata: dict[str, Any],
        prediction_id: str | None,
    ) -> Row:
        now = utcnow()
        return {
            "id": file_id,
            "account_id": account_id,
            "prediction_id": prediction_id,
            "name": name,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "md5": md5,
            "metadata": metadata,
            "path": file_key(file_id, name),
            "public_token": secrets.token_urlsafe(32),
            "created_at": now,
            "expires_at": None if prediction_id else now + self.ttl,
        }

    async def open(
        self, row: Row, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """A file's bytes from `start` to `end` (inclusive) as a stream. The read is opened
        before this returns, so BlobNotFound and BlobsUnavailable come before any byte."""
        chunks = await asyncio.to_thread(self.blobs.read, key_of(row["path"]), start, end)
        return _stream(chunks)

    async def copy_to(self, row: Row, target: Path) -> None:
        await asyncio.to_thread(self.blobs.get_file, key_of(row["path"]), target)

    def delete_bytes(self, rows: list[Row]) -> None:
        for row in rows:
            self.blobs.delete(key_of(row["path"]))

    async def delete(self, row: Row) -> None:
        """Bytes first: a failure (the file store unreachable) leaves the row, to delete again."""
        await asyncio.to_thread(self.delete_bytes, [row])
        await self.store.delete_file(row["id"], row["account_id"])

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete every expired file: bytes, then rows (expired rows are no longer served)."""
        now = now or utcnow()
        removed = 0
        while rows := await self.store.expired_files(now, SWEEP_BATCH):
            await asyncio.to_thread(self.delete_bytes, rows)
            await self.store.delete_files([row["id"] for row in rows])
            removed += len(rows)
        return removed

    @property
    def sweep_interval(self) -> float:
        """Seconds between sweeps: a minute, or less when files live shorter than two."""
        return min(60.0, max(0.2, self.ttl.total_seconds() / 2))

    async def sweep_forever(self) -> None:
        while True:
            try:
                removed = await self.sweep()
                if removed:
                    log.info("deleted %d expired files", removed)
            except BlobsUnavailable as exc:
                log.warning("deleting expired files failed, trying again later: %s", exc)
            except Exception:  # a failed sweep is retried on the next round
                log.exception("deleting expired files failed")
            await asyncio.sleep(self.sweep_interval)

    def start(self) -> None:
        """Sweep expired files in the background until stop()."""
        self._sweeper = asyncio.create_task(self.sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None


async def _stream(chunks: Chunks) -> AsyncGenerator[bytes, None]:
    try:
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk
    finally:
        chunks.close()


def public_url(base_url: str, row: Row) -> str:
    return f"{base_url}/files/{row['public_token']}/{urllib.parse.quote(row['name'])}"


class InputFetcher:
    """Turns the URL of a file input into a local file the model can read."""

    def __init__(self, files: FileStore, http: httpx.AsyncClient) -> None:
        self.files = files
        self.http = http

    async def fetch(self, url: str, account_id: str, workdir: Path) -> Path:
        if url.startswith("data:"):
            return self._from_data_uri(url, workdir)
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https"):
            raise FileError(f"Unsupported file URL {url[:80]!r}: use http(s):// or data:")
        own = await self._own_file(parsed.path, account_id)
        if own is not None:
            target = workdir / own["name"]
            try:
                await self.files.copy_to(own, target)
            except BlobNotFound as exc:
                raise FileError(f"The bytes of file {own['id']} are missing") from exc
            except BlobsUnavailable as exc:
                raise FileError(f"File {own['id']} cannot be read now: {exc}") from exc
            return target
        return await self._download(url, workdir)

    async def _own_file(self, path: str, account_id: str) -> Row | None:
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if parts[:2] == ["v1", "files"] and len(parts) in (3, 4):
            row = await self.files.store.get_file(parts[2], account_id)
            if row is None:
                raise FileError(f"File {parts[2]} was not found")
            return row
        if parts[:1] == ["files"] and len(parts) == 3:
            row = await self.files.store.get_file_by_token(parts[1])
            if row is None:
                raise FileError("That file URL is not known to this server")
            return row
        return None

    def _from_data_uri(self, url: str, workdir: Path) -> Path:
        mime, data = decode_data_uri(url)
        if len(data) > self.files.max_bytes:
            raise FileTooLarge(f"Files must be at most {self.files.max_bytes} bytes")
        target = workdir / f"file{_extension(mime)}"
        target.write_bytes(data)
        return target

    async def _download(self, url: str, workdir: Path) -> Path:
        name = safe_name(urllib.parse.unquote(urllib.parse.urlsplit(url).path) or "file")
        target = workdir / name
        size = 0
        try:
            async with self.http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise FileError(f"Downloading {url} failed: HTTP {response.status_code}")
                with target.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.files.max_bytes:
                            raise FileTooLarge(
                                f"{url} is larger than the limit of {self.files.max_bytes} bytes"
                            )
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise FileError(f"Downloading {url} failed: {exc}") from exc
        return target


def scratch_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root))
