"""Pier on an S3 file store: file bytes live in the bucket only, and an unreachable store is a
503 problem+json for the requests that need it, never a 500."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pier.blobs.keys import version_key
from tests.blobs.moto import MotoServer, start_moto, stored_keys
from tests.conftest import running_pier

ANONYMOUS = {"Authorization": ""}


def local_files(data_dir: Path) -> set[str]:
    """Files in the data directory besides the database and the version cache."""
    found = set()
    for path in data_dir.rglob("*"):
        relative = path.relative_to(data_dir).as_posix()
        if path.is_file() and not relative.startswith(("versions/", "pier.db")):
            found.add(relative)
    return found


async def test_no_file_bytes_land_in_the_data_dir(
    tmp_path: Path, s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket()
    async with running_pier(tmp_path, files=f"s3://{bucket}/pier") as pier:
        version = await pier.add_fixture("test/image", "output_path_image.py")
        file_version = await pier.add_fixture("test/file", "input_path.py")
        upload = await pier.client.post("/v1/files", files={"content": ("a.txt", b"uploaded")})
        assert upload.status_code == 201
        image = (await pier.create("test/image", {"color": "red"}, wait=60)).json()
        assert image["status"] == "succeeded", image
        text = "x" * 100_000  # a data: URI this long is stored as a file
        uri = "data:text/plain;base64," + base64.b64encode(text.encode()).decode()
        read = (await pier.create("test/file", {"image": uri}, wait=60)).json()
        assert read["status"] == "succeeded" and read["output"].endswith(text[:10]), read
        served = await pier.client.get(image["output"][len(pier.services.base_url) :])
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"

        keys = stored_keys(pier.services.files.blobs)
        assert version_key(version["id"]) in keys and version_key(file_version["id"]) in keys
        assert sum(key.endswith("/a.txt") for key in keys) == 1
        assert sum(key.endswith(".png") for key in keys) == 1
        assert sum(key.endswith("/input.txt") for key in keys) == 1
        data_dir = tmp_path / "data"
        assert local_files(data_dir) <= {"admin-token"}, local_files(data_dir)
        assert not (data_dir / "files").exists()
        assert pier.services.files.blobs.size(version_key(version["id"])) is not None


@pytest.fixture
def outage_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """An S3 server of this test's own, to stop halfway."""
    server = start_moto()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


async def test_an_unreachable_file_store_is_a_503(
    tmp_path: Path, outage_server: MotoServer
) -> None:
    bucket = outage_server.new_bucket()
    async with running_pier(tmp_path, files=f"s3://{bucket}/pier") as pier:
        await pier.add_fixture("test/file", "input_path.py")
        made = (await pier.client.post("/v1/files", files={"content": ("a.txt", b"hello")})).json()
        stored = await pier.services.store.get_file(made["id"], pier.info.account["id"])
        assert stored is not None
        outage_server.stop()

        big = "data:text/plain;base64," + base64.b64encode(b"y" * 100_000).decode()
        requests = [
            ("POST", "/v1/files", {"files": {"content": ("b.txt", b"more")}}),
            ("GET", f"/v1/files/{made['id']}/download", {}),
            ("GET", f"/files/{stored['public_token']}/a.txt", {"headers": ANONYMOUS}),
            ("DELETE", f"/v1/files/{made['id']}", {}),
            ("POST", "/v1/models/test/file/predictions", {"json": {"input": {"image": big}}}),
        ]
        for method, url, kwargs in requests:
            response = await pier.client.request(method, url, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == 503, (method, url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert "file store" in response.json()["detail"]
        # nothing was accepted half-way: the file is still there, nothing new was listed
        listed = (await pier.client.get("/v1/files")).json()["results"]
        assert [f["id"] for f in listed] == [made["id"]]
        predictions = (await pier.client.get("/v1/predictions")).json()["results"]
        assert predictions == []
        # a prediction whose input is a file of the store fails with the reason
        body = (await pier.create("test/file", {"image": made["urls"]["get"]}, wait=60)).json()
        assert body["status"] == "failed" and "cannot be read now" in body["error"]


async def test_rows_from_before_the_file_store_still_serve(tmp_path: Path) -> None:
    """Rows once held the absolute path DATA_DIR/files/{id}/{name}; its last parts are the key."""
    async with running_pier(tmp_path) as pier:
        made = (await pier.client.post("/v1/files", files={"content": ("old.txt", b"old")})).json()
        store = pier.services.store
        row = await store.get_file(made["id"], pier.info.account["id"])
        assert row is not None
        await store.delete_file(row["id"], row["account_id"])
        absolute = tmp_path / "data" / "files" / row["path"]
        await store.insert_file({**row, "path": str(absolute)})
        got = await pier.client.get(f"/v1/files/{made['id']}/download")
        assert got.status_code == 200 and got.content == b"old"
        assert hashlib.md5(got.content).hexdigest() == made["etag"]
        assert (await pier.client.delete(f"/v1/files/{made['id']}")).status_code == 204
        assert not absolute.exists()
