"""Files keep their promises: uploads expire and are deleted, data: URIs are checked at create,
and large ones are stored as files rather than inside the prediction."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pier.files import DATA_URI_INLINE_CHARS
from tests.blobs.moto import stored_keys
from tests.conftest import FILE_STORES, Pier, running_pier

ANONYMOUS = {"Authorization": ""}
pytestmark = pytest.mark.parametrize("files", FILE_STORES, indirect=True)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def text_uri(text: str) -> str:
    return "data:text/plain;base64," + base64.b64encode(text.encode()).decode()


async def test_expired_uploads_stop_being_served_and_are_deleted(
    tmp_path: Path, files: str, database: str
) -> None:
    settings = {"files": files, "database": database, "file_expiry_seconds": 1.5}
    async with running_pier(tmp_path, **settings) as pier:
        await pier.add_fixture("test/image", "output_path_image.py")
        output = (await pier.create("test/image", {"color": "red"}, wait=60)).json()["output"]
        upload = await pier.client.post("/v1/files", files={"content": ("a.txt", b"hello")})
        assert upload.status_code == 201
        file_id = upload.json()["id"]
        stored = await pier.services.store.get_file(file_id, pier.info.account["id"])
        assert stored is not None
        blobs = pier.services.files.blobs
        assert blobs.size(stored["path"]) == 5
        public = f"/files/{stored['public_token']}/a.txt"
        urls = [f"/v1/files/{file_id}", f"/v1/files/{file_id}/download"]
        for url in urls:
            assert (await pier.client.get(url)).status_code == 200
        assert (await pier.client.get(public, headers=ANONYMOUS)).content == b"hello"

        async def gone() -> bool:
            return (await pier.client.get(urls[0])).status_code == 404

        await eventually(gone)
        for url in urls:
            assert (await pier.client.get(url)).status_code == 404
        assert (await pier.client.get(public, headers=ANONYMOUS)).status_code == 404
        listed = (await pier.client.get("/v1/files")).json()["results"]
        assert file_id not in [f["id"] for f in listed]
        # the input URL of an expired file no longer feeds a model
        await pier.add_fixture("test/file", "input_path.py")
        failed = await pier.create("test/file", {"image": upload.json()["urls"]["get"]}, wait=60)
        assert failed.json()["status"] == "failed"

        async def reclaimed() -> bool:
            rows = await pier.services.store.expired_files(stored["expires_at"], 10)
            return rows == [] and not blobs.exists(stored["path"])

        await eventually(reclaimed)  # the sweep deleted the bytes, then the row
        if not files:
            assert not (tmp_path / "data" / "files" / file_id).exists()
        # a prediction's output is not an upload: it does not expire
        path = output[len(pier.services.base_url) :]
        assert (await pier.client.get(path, headers=ANONYMOUS)).status_code == 200


@pytest.mark.parametrize(
    "uri, reason",
    [
        ("data:text/plain;base64,@@@@", "not valid base64"),
        ("data:text/plain;base64,aGVsbG8*", "not valid base64"),
        ("data:text/plain;base64,aGVsbG8gd", "not valid base64"),  # a length no base64 has
        ("data:text/plain;base64," + "@" * (DATA_URI_INLINE_CHARS + 10), "not valid base64"),
        ("data:text/plain;base64", "no comma"),
    ],
)
async def test_malformed_data_uris_are_refused_at_create(pier: Pier, uri: str, reason: str) -> None:
    await pier.add_fixture("test/file", "input_path.py")
    before = stored_keys(pier.services.files.blobs)
    response = await pier.create("test/file", {"image": uri})
    assert response.status_code == 422, response.text
    body = response.json()
    assert reason in body["detail"]
    assert body["invalid_fields"][0]["field"] == "input.image"
    assert stored_keys(pier.services.files.blobs) == before  # nothing left behind


@pytest.mark.parametrize(
    "uri",
    [
        text_uri("hello"),
        "data:text/plain;base64,aGVs\nbG8=",  # wrapped over lines
        "data:text/plain;base64,aGVsbG8",  # unpadded
        "data:text/plain;base64,aGVsbG8%3D",  # percent-encoded
        "data:text/plain,hello",  # not base64 at all
    ],
)
async def test_well_formed_data_uris_still_work(pier: Pier, uri: str) -> None:
    await pier.add_fixture("test/file", "input_path.py")
    body = (await pier.create("test/file", {"image": uri}, wait=60)).json()
    assert body["status"] == "succeeded", body
    assert body["output"].endswith(":hello")
    assert body["input"]["image"] == uri  # small ones stay inline


async def test_a_large_data_uri_is_stored_as_a_file_of_the_prediction(pier: Pier) -> None:
    await pier.add_fixture("test/file", "input_path.py")
    await pier.add_fixture("test/files", "input_list_of_paths.py")
    text = "".join(f"line {i}\n" for i in range(60_000))  # ~530 KB
    big = text_uri(text)
    assert len(big) > DATA_URI_INLINE_CHARS
    created = await pier.create("test/file", {"image": big}, wait=60)
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "succeeded", body
    link = body["input"]["image"]
    assert link.startswith(pier.services.base_url + "/files/") and len(link) < 300
    assert body["output"].split(":", 1)[1] == text
    stored = await pier.services.store.get_prediction(body["id"])
    assert stored is not None and stored["input"] == {"image": link}
    # the file is the prediction's, not an upload of the account's
    listed = (await pier.client.get("/v1/files")).json()["results"]
    assert listed == []
    served = await pier.client.get(link[len(pier.services.base_url) :], headers=ANONYMOUS)
    assert served.status_code == 200 and served.text == text

    many: dict[str, Any] = {"files": [text_uri("small"), big]}
    body = (await pier.create("test/files", many, wait=60)).json()
    assert body["status"] == "succeeded", body
    assert body["input"]["files"][0] == text_uri("small")
    assert body["input"]["files"][1].startswith(pier.services.base_url + "/files/")
    assert body["output"] == ["Path:small", f"Path:{text}"]
