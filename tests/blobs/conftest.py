"""`blobs`: each test runs on a local directory and on a fresh bucket of the test S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pier.blobs import Blobs, LocalBlobs, open_blobs
from tests.blobs.moto import MotoServer


@pytest.fixture(params=["local", "s3"])
def blobs(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Blobs]:
    if request.param == "local":
        yield LocalBlobs(tmp_path / "store")
        return
    server: MotoServer = request.getfixturevalue("s3_server")
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    yield open_blobs(f"s3://{server.new_bucket()}/some/prefix", tmp_path / "data")
