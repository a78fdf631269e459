"""Weights from URLs: downloaded once into the cache, resumed, checksummed, limited."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pier.runner.weights import WeightsError, fetch
from tests.conftest import ROOT
from tests.weights.fileserver import FileServer, file_server, sha256_digest_header

__all__ = ["file_server"]

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()


def _lines() -> tuple[list[str], object]:
    said: list[str] = []
    return said, said.append


def test_downloads_once_then_serves_from_the_cache(file_server: FileServer, tmp_path: Path):
    url = file_server.add("/models/w.safetensors", DATA)
    said, say = _lines()
    path = fetch(url, tmp_path / "cache", 10**9, say)  # type: ignore[arg-type]
    assert path.read_bytes() == DATA and path.name == "w.safetensors"
    assert any("downloading" in line for line in said)
    assert any(SHA in line for line in said)  # the checksum is recorded and shown
    again = fetch(url, tmp_path / "cache", 10**9, say)  # type: ignore[arg-type]
    assert again == path and len(file_server.requests) == 1


def test_a_known_checksum_needs_no_request(file_server: FileServer, tmp_path: Path) -> None:
    first = file_server.add("/a.bin", DATA)
    fetch(first + f"#sha256={SHA}", tmp_path, 10**9)
    mirror = file_server.url("/elsewhere/b.bin")  # not even served: the content is cached
    assert fetch(f"{mirror}#sha256={SHA}", tmp_path, 10**9).read_bytes() == DATA
    assert [path for path, _ in file_server.requests] == ["/a.bin"]


def test_a_broken_connection_resumes_with_range(file_server: FileServer, tmp_path: Path) -> None:
    url = file_server.add("/w.bin", DATA, cut_after=100_000)
    path = fetch(url + f"#sha256={SHA}", tmp_path, 10**9)
    assert path.read_bytes() == DATA
    assert file_server.requests == [("/w.bin", None), ("/w.bin", "bytes=100000-")]
    assert file_server.sent == len(DATA)  # nothing was sent twice


def test_a_killed_download_resumes_in_the_next_process(
    file_server: FileServer, tmp_path: Path
) -> None:
    url = file_server.add("/slow.bin", DATA, delay=0.02)
    cache = tmp_path / "cache"
    script = f"from pier.runner.weights import fetch; fetch({url!r}, __import__('pathlib').Path({str(cache)!r}), 10**9)"  # noqa: E501
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    partial = cache / "partial"
    deadline = time.monotonic() + 30
    try:
        while True:
            parts = (
                [p for p in partial.glob("*") if p.suffix != ".json"] if partial.is_dir() else []
            )
            if parts and parts[0].stat().st_size >= 3 * 16 * 1024:
                break
            assert child.poll() is None and time.monotonic() < deadline, "no partial download"
            time.sleep(0.01)
    finally:
        child.kill()
        child.wait()
    kept = parts[0].stat().st_size
    assert 0 < kept < len(DATA)
    file_server.files["/slow.bin"].delay = 0.0
    assert fetch(url, cache, 10**9).read_bytes() == DATA
    path, wanted = file_server.requests[-1]
    assert wanted is not None and wanted.startswith("bytes=")
    assert int(wanted[6:].rstrip("-")) >= kept  # what was on disk was not fetched again


def test_a_checksum_mismatch_fails_and_keeps_nothing(
    file_server: FileServer, tmp_path: Path
) -> None:
    url = file_server.add("/w.bin", DATA)
    with pytest.raises(WeightsError, match=f"have sha256 {SHA}, but the URL's #sha256= says 0+"):
        fetch(url + "#sha256=" + "0" * 64, tmp_path, 10**9)
    assert not (tmp_path / "sha256").exists()
    assert not [p for p in (tmp_path / "partial").iterdir() if p.suffix != ".json"]
    with pytest.raises(WeightsError, match="not a sha256"):
        fetch(url + "#sha256=abc", tmp_path, 10**9)


def test_the_servers_digest_header_is_checked(file_server: FileServer, tmp_path: Path) -> None:
    good = file_server.add("/good.bin", DATA, digest=sha256_digest_header(DATA))
    assert fetch(good, tmp_path, 10**9).read_bytes() == DATA
    bad = file_server.add("/bad.bin", DATA, digest=sha256_digest_header(b"other"))
    with pytest.raises(WeightsError, match="the server says"):
        fetch(bad, tmp_path, 10**9)


def test_the_size_limit(file_server: FileServer, tmp_path: Path) -> None:
    url = file_server.add("/big.bin", DATA)
    with pytest.raises(WeightsError, match="limit of 1000 bytes.*max_weights_bytes"):
        fetch(url, tmp_path, 1000)


def test_http_errors_are_clear(file_server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="HTTP 404"):
        fetch(file_server.url("/missing.bin"), tmp_path, 10**9)
