"""Both file stores keep the same promises: a local directory and S3 (moto's server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pier.blobs import BlobNotFound, Blobs, BlobsUnavailable, LocalBlobs, open_blobs
from pier.blobs.s3 import S3Blobs
from tests.blobs.moto import CREDENTIALS, MotoServer, free_port


def read_all(blobs: Blobs, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(blobs.read(key, start, end))


def test_put_read_size_delete(blobs: Blobs, tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # more than one chunk
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    blobs.put_file("abc/source.bin", source)
    assert not source.exists()  # the store took it
    blobs.put_bytes("abc/other.txt", b"hello")

    assert blobs.size("abc/source.bin") == len(data) and blobs.exists("abc/other.txt")
    assert read_all(blobs, "abc/source.bin") == data
    assert read_all(blobs, "abc/source.bin", 10, 19) == data[10:20]
    assert read_all(blobs, "abc/source.bin", len(data) - 5) == data[-5:]
    copy = tmp_path / "copy.bin"
    blobs.get_file("abc/source.bin", copy)
    assert copy.read_bytes() == data

    blobs.delete("abc/source.bin")
    blobs.delete("abc/source.bin")  # twice is fine
    assert blobs.size("abc/source.bin") is None and not blobs.exists("abc/source.bin")
    with pytest.raises(BlobNotFound):
        blobs.read("abc/source.bin")
    with pytest.raises(BlobNotFound):
        blobs.get_file("abc/source.bin", tmp_path / "missing.bin")
    assert read_all(blobs, "abc/other.txt") == b"hello"


def test_a_reader_closed_early_lets_go(blobs: Blobs) -> None:
    blobs.put_bytes("k/big", b"x" * (3 << 20))
    chunks = blobs.read("k/big")
    assert next(chunks)
    chunks.close()
    blobs.delete("k/big")
    assert not blobs.exists("k/big")


def test_local_store_keys_stay_inside_and_empty_folders_go(tmp_path: Path) -> None:
    blobs = LocalBlobs(tmp_path / "store")
    for bad in ("../x", "/etc/passwd", "a//b", "a/./b", ""):
        with pytest.raises(ValueError):
            blobs.put_bytes(bad, b"no")
    blobs.put_bytes("id1/name.txt", b"1")
    blobs.delete("id1/name.txt")
    assert not (tmp_path / "store" / "id1").exists() and (tmp_path / "store").is_dir()


def test_open_blobs_reads_the_setting(tmp_path: Path) -> None:
    assert isinstance(open_blobs("", tmp_path), LocalBlobs)
    assert open_blobs("", tmp_path).location == str(tmp_path / "files")
    assert open_blobs(str(tmp_path / "elsewhere"), tmp_path).location == str(tmp_path / "elsewhere")
    made = open_blobs("s3://bucket/a/b/", tmp_path)
    assert isinstance(made, S3Blobs) and made.location == "s3://bucket/a/b/"
    for bad in ("ftp://host/x", "s3://"):
        with pytest.raises(ValueError):
            open_blobs(bad, tmp_path)


def test_an_unreachable_s3_store_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    blobs = open_blobs("s3://nobody-home/x", tmp_path)
    source = tmp_path / "a.txt"
    source.write_bytes(b"a")
    for call in (
        lambda: blobs.put_bytes("k", b"v"),
        lambda: blobs.put_file("k", source),
        lambda: blobs.read("k"),
        lambda: blobs.size("k"),
        lambda: blobs.delete("k"),
    ):
        with pytest.raises(BlobsUnavailable, match="s3://nobody-home/x/"):
            call()
    assert source.exists()  # not consumed by a failed put


def test_a_missing_bucket_is_unavailable_not_missing(
    s3_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    blobs = open_blobs("s3://no-such-bucket-here/x", tmp_path)
    with pytest.raises(BlobsUnavailable, match="NoSuchBucket"):
        blobs.put_bytes("k", b"v")
