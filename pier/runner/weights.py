"""Weights named by an http(s) URL (`COG_WEIGHTS`), downloaded once per machine.

This runs in the model process, before `setup()`, so it works the same under `pier serve` and
under `pier worker` on another machine, and its progress lines land in the model's setup logs.
It uses only the standard library: a model's own environment holds none of Pier's dependencies.

The cache (``PIER_WEIGHTS_DIR``, set by the worker to DATA_DIR/weights) is keyed by URL and by
content::

    sha256/<hex>/<name>     complete files, by the sha256 of their bytes
    urls/<key>.json         which content a URL gave: {"url", "sha256", "name", "size"}
    partial/<key>           the bytes of an unfinished download, resumed with a Range request
    partial/<key>.json      what the resume needs: the URL's ETag or Last-Modified
    locks/<key>             so two processes never download the same URL at once

``<key>`` is the sha256 of the URL without its fragment. A URL may end in ``#sha256=<hex>``: the
download must have that checksum, and a file with that content already in the cache is used
without any request. A ``Repr-Digest`` or ``Digest`` header with a sha-256 is checked too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHTS_DIR_ENV = "PIER_WEIGHTS_DIR"
MAX_BYTES_ENV = "PIER_MAX_WEIGHTS_BYTES"
DEFAULT_MAX_BYTES = 64 * 1024**3
CHUNK = 1 << 20
TIMEOUT = 60.0  # seconds without a byte before an attempt is given up (and resumed)
RETRIES = 4  # failed attempts in a row, without a byte of progress, before giving up
PROGRESS_EVERY = 2.0  # seconds between progress lines
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class WeightsError(Exception):
    """Weights that cannot be had; the message says why."""


class _Retry(Exception):
    """An attempt that ended early for a reason worth trying again (network, 5xx)."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


_settings: dict[str, str] = {}  # taken from the environment before the model is imported


def take_settings() -> None:
    """Move the cache directory and the limit out of os.environ, where the worker put them,
    so the model process has them but the model's code and its subprocesses do not."""
    for name in (WEIGHTS_DIR_ENV, MAX_BYTES_ENV):
        value = os.environ.pop(name, None)
        if value:
            _settings[name] = value


def _setting(name: str) -> str | None:
    return _settings.get(name) or os.environ.get(name)


def cache_dir() -> Path:
    configured = _setting(WEIGHTS_DIR_ENV)
    return Path(configured) if configured else Path("~/.pier/weights").expanduser()


def max_bytes() -> int:
    try:
        return int(_setting(MAX_BYTES_ENV) or DEFAULT_MAX_BYTES)
    except ValueError:
        return DEFAULT_MAX_BYTES


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fetch(
    url: str,
    cache: Path | None = None,
    limit: int | None = None,
    say: Callable[[str], None] = _say,
) -> Path:
    """The local path of the weights at `url`, downloading them unless the cache has them."""
    return _Download(url, cache or cache_dir(), limit or max_bytes(), say).run()


def _expected_sha256(fragment: str) -> str | None:
    params = urllib.parse.parse_qs(fragment)
    if "sha256" not in params:
        return None
    value = params["sha256"][-1].strip().lower()
    if not _HEX64.match(value):
        raise WeightsError(f"#sha256={value} is not a sha256 checksum (64 hex digits)")
    return value


def _header_sha256(headers: Any) -> str | None:
    """A sha-256 from a Repr-Digest (RFC 9530) or Digest (RFC 3230) header, as hex."""
    for name in ("repr-digest", "digest"):
        for item in (headers.get(name) or "").split(","):
            algorithm, _, value = item.strip().partition("=")
            if algorithm.strip().lower() != "sha-256":
                continue
            try:
                return base64.b64decode(value.strip().strip(":"), validate=True).hex()
            except (binascii.Error, ValueError):
                continue
    return None


def _file_name(url: str) -> str:
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    name = _SAFE_NAME.sub("_", path.rsplit("/", 1)[-1]).strip("._")
    return name[-200:] or "weights"


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _Download:
    url: str
    cache: Path
    limit: int
    say: Callable[[str], None]

    def __post_init__(self) -> None:
        self.address, _, fragment = self.url.partition("#")
        self.expected = _expected_sha256(fragment)
        self.key = hashlib.sha256(self.address.encode()).hexdigest()
        self.part = self.cache / "partial" / self.key
        self.part_meta = self.cache / "partial" / f"{self.key}.json"
        self.record = self.cache / "urls" / f"{self.key}.json"
        self.shown = _redacted(self.address)

    def run(self) -> Path:
        cached = self._cached()
        if cached is not None:
            return cached
        with _locked(self.cache / "locks" / self.key):
            cached = self._cached()  # another process finished it while this one waited
            if cached is not None:
                return cached
            return self._download()

    def _by_content(self, sha256: str) -> Path | None:
        folder = self.cache / "sha256" / sha256
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        return files[0] if files else None

    def _cached(self) -> Path | None:
        if self.expected is not None:
            found = self._by_content(self.expected)
            if found is not None:
                self.say(f"Weights: {self.shown} is cached ({found.name}, sha256 {self.expected})")
                return found
        record = _read_json(self.record)
        sha256 = record.get("sha256")
        if not isinstance(sha256, str) or (self.expected and sha256 != self.expected):
            return None
        found = self._by_content(sha256)
        if found is not None:
            self.say(f"Weights: {self.shown} is cached ({found.name}, sha256 {sha256})")
        return found

    def _download(self) -> Path:
        self.part.parent.mkdir(parents=True, exist_ok=True)
        started, failures = time.monotonic(), 0
        while True:
            before = self._have()
            try:
                sha256, header_sha256 = self._attempt()
                break
            except _Retry as exc:
                failures = 0 if self._have() > before else failures + 1
                if failures > RETRIES:
                    raise WeightsError(
                        f"Downloading weights from {self.shown} failed: {exc}. The "
                        f"{self._have()} bytes received are kept; the next start resumes."
                    ) from None
                self.say(f"Weights: {exc}; resuming at byte {self._have()}")
                time.sleep(min(0.25 * 2**failures, 5.0))
        size = self._have()
        for wanted, where in ((self.expected, "the URL's #sha256="), (header_sha256, "the server")):
            if wanted is not None and wanted != sha256:
                self._forget_partial()
                raise WeightsError(
                    f"The weights downloaded from {self.shown} have sha256 {sha256}, but "
                    f"{where} says {wanted}; nothing was kept"
                )
        target = self.cache / "sha256" / sha256 / _file_name(self.address)
        if self._by_content(sha256) is None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.part, target)
        else:
            target = self._by_content(sha256) or target
            self.part.unlink(missing_ok=True)
        self.part_meta.unlink(missing_ok=True)
        self.record.parent.mkdir(parents=True, exist_ok=True)
        record = {"url": self.address, "sha256": sha256, "name": target.name, "size": size}
        _write_json(self.record, record)
        elapsed = time.monotonic() - started
        self.say(
            f"Weights: downloaded {_size(size)} from {self.shown} in {elapsed:.1f} s "
            f"(sha256 {sha256})"
        )
        return target

    def _have(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0

    def _forget_partial(self) -> None:
        self.part.unlink(missing_ok=True)
        self.part_meta.unlink(missing_ok=True)

    def _request(self, have: int) -> urllib.request.Request:
        headers = {"User-Agent": "pier-weights", "Accept-Encoding": "identity"}
        validator = _read_json(self.part_meta).get("validator")
        if have and isinstance(validator, str):
            headers["Range"] = f"bytes={have}-"
            headers["If-Range"] = validator
        return urllib.request.Request(self.address, headers=headers)

    def _attempt(self) -> tuple[str, str | None]:
        """One request: fetch what is missing; (sha256 of the whole file, sha256 the server
        announced). Raises _Retry when it ended early for a reason worth trying again."""
        have = self._have()
        if have and "validator" not in _read_json(self.part_meta):
            self._forget_partial()  # bytes nothing can vouch for: start again
            have = 0
        try:
            response = urllib.request.urlopen(self._request(have), timeout=TIMEOUT)  # noqa: S310
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # what is kept no longer fits the file: start again
                self._forget_partial()
                raise _Retry("the server refused the resume") from None
            if exc.code >= 500 or exc.code == 429:
                raise _Retry(f"HTTP {exc.code}") from None
            raise WeightsError(
                f"Downloading weights from {self.shown} failed: HTTP {exc.code} {exc.reason}"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Retry(f"cannot reach {self.shown} ({reason})") from None
        with response:
            return self._receive(response, have)

    def _receive(self, response: Any, have: int) -> tuple[str, str | None]:
        headers = response.headers
        resumed = response.status == 206
        start, _, total = _content_range(headers.get("content-range"))
        if resumed and start != have:
            self._forget_partial()
            raise _Retry(f"the server resumed at byte {start}, not {have}")
        if not resumed:
            have = 0
            length = headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
        if total is not None and total > self.limit:
            self._forget_partial()
            raise WeightsError(
                f"The weights at {self.shown} are {total} bytes, more than the limit of "
                f"{self.limit} bytes (setting max_weights_bytes)"
            )
        validator = headers.get("etag")
        if not validator or validator.startswith("W/"):  # If-Range needs a strong validator
            validator = headers.get("last-modified")
        _write_json(self.part_meta, {"url": self.address, "validator": validator, "size": total})
        digest = hashlib.sha256()
        mode = "r+b" if resumed else "wb"
        if resumed:
            self.say(f"Weights: resuming {self.shown} at byte {have} of {total or '?'}")
        else:
            self.say(f"Weights: downloading {self.shown} ({_size(total) if total else '? bytes'})")
        with self.part.open(mode) as out:
            if resumed:
                for block in iter(lambda: out.read(CHUNK), b""):
                    digest.update(block)
                out.seek(have)
                out.truncate()
            self._copy(response, out, digest, have, total)
        if total is not None and self._have() < total:
            raise _Retry(f"the connection closed after {self._have()} of {total} bytes")
        return digest.hexdigest(), _header_sha256(headers)

    def _copy(self, response: Any, out: Any, digest: Any, have: int, total: int | None) -> None:
        shown_at = time.monotonic()
        while True:
            try:
                block = response.read1(CHUNK)  # what has arrived, not a whole CHUNK
            except (OSError, http.client.HTTPException) as exc:
                out.flush()
                raise _Retry(f"the download broke off ({type(exc).__name__})") from None
            if not block:
                return
            have += len(block)
            if have > self.limit:
                out.close()
                self._forget_partial()
                raise WeightsError(
                    f"The weights at {self.shown} are more than the limit of {self.limit} "
                    "bytes (setting max_weights_bytes)"
                )
            out.write(block)
            digest.update(block)
            now = time.monotonic()
            if now - shown_at >= PROGRESS_EVERY:
                shown_at = now
                share = f" ({100 * have / total:.0f}%)" if total else ""
                of = f" of {_size(total)}" if total else ""
                self.say(f"Weights: {_size(have)}{of}{share}")


def _content_range(header: str | None) -> tuple[int | None, int | None, int | None]:
    """(first, last, total) of a `Content-Range: bytes first-last/total` header."""
    match = re.match(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)", header or "")
    if match is None:
        return None, None, None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), total


def _redacted(url: str) -> str:
    """The URL as logs show it: no user:password, no query (signed URLs carry secrets there)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    query = "?…" if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", "")) + query
