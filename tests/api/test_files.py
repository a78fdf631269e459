"""The Files API as both official clients send it, file inputs of every kind, size limits."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from pathlib import Path

import httpx
import pytest
import replicate
from PIL import Image

from tests.api.test_stream import served
from tests.conftest import FILE_STORES, Pier, running_pier

pytestmark = pytest.mark.parametrize("files", FILE_STORES, indirect=True)


def png(color: tuple[int, int, int] = (0, 0, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), color).save(buffer, "PNG")
    return buffer.getvalue()


def check_file_object(body: dict[str, object], data: bytes) -> None:
    """Every field the Python client requires (it fails without name and etag)."""
    assert set(body) >= {
        "id",
        "name",
        "content_type",
        "size",
        "etag",
        "checksums",
        "metadata",
        "created_at",
        "expires_at",
        "urls",
    }
    assert body["size"] == len(data)
    assert body["etag"] == hashlib.md5(data).hexdigest()
    assert body["checksums"] == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }
    assert isinstance(body["urls"], dict) and body["urls"]["get"].endswith(
        f"/v1/files/{body['id']}"
    )


async def test_upload_like_the_js_client_metadata_as_a_json_file_part(pier: Pier) -> None:
    data = png()
    response = await pier.client.post(
        "/v1/files",
        files=[
            ("content", ("buffer_1700000000000", data, "application/octet-stream")),
            ("metadata", ("blob", b'{"purpose":"test"}', "application/json")),
        ],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    check_file_object(body, data)
    assert body["metadata"] == {"purpose": "test"}
    assert body["content_type"] == "image/png"  # the bytes say so, not the declared type
    assert body["name"] == "buffer_1700000000000"


async def test_upload_like_the_python_client_metadata_as_a_text_field(pier: Pier) -> None:
    response = await pier.client.post(
        "/v1/files",
        files={"content": ("hello.txt", b"hello world!\n", "text/plain")},
        data={"metadata": '{"foo": "bar"}'},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["content_type"] == "text/plain"
    assert body["metadata"] == {"foo": "bar"} and body["name"] == "hello.txt"
    bare = await pier.client.post("/v1/files", files={"content": ("a.bin", b"\x00\x01")})
    assert bare.status_code == 201 and bare.json()["metadata"] == {}


async def test_declared_media_types_are_checked_against_the_bytes(pier: Pier) -> None:
    fake = await pier.client.post(
        "/v1/files", files={"content": ("photo.png", b"<script>alert(1)</script>", "image/png")}
    )
    assert fake.json()["content_type"] == "application/octet-stream"
    real = await pier.client.post(
        "/v1/files", files={"content": ("notes.txt", png(), "text/plain")}
    )
    assert real.json()["content_type"] == "image/png"


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"json": {"content": "x"}}, 415),
        ({"files": {"other": ("a.txt", b"a")}}, 400),
        ({"files": {"content": ("a.txt", b"a")}, "data": {"metadata": "[1]"}}, 400),
        ({"files": {"content": ("a.txt", b"a")}, "data": {"metadata": "{nope"}}, 400),
    ],
)
async def test_bad_uploads_get_clear_errors(
    pier: Pier, kwargs: dict[str, object], status: int
) -> None:
    response = await pier.client.post("/v1/files", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


async def test_too_large_is_413(tmp_path: Path, files: str) -> None:
    async with running_pier(tmp_path, files=files, max_file_bytes=1024 * 1024) as small:
        response = await small.client.post(
            "/v1/files", files={"content": ("big.bin", b"x" * (1024 * 1024 + 1))}
        )
        assert response.status_code == 413
        assert response.json()["detail"] == "Files must be less than 1MB in size"
        listed = (await small.client.get("/v1/files")).json()
        assert listed["results"] == []  # nothing half-stored


async def test_get_list_delete_and_ownership(pier: Pier) -> None:
    ids = []
    for index in range(3):
        response = await pier.client.post(
            "/v1/files", files={"content": (f"f{index}.txt", f"file {index}".encode())}
        )
        ids.append(response.json()["id"])
    listed = (await pier.client.get("/v1/files")).json()
    assert [f["id"] for f in listed["results"]] == ids[::-1]
    assert listed["next"] is None
    got = await pier.client.get(f"/v1/files/{ids[0]}")
    assert got.status_code == 200 and got.json()["name"] == "f0.txt"

    store = pier.services.store
    other = await store.create_account("someone-else")
    token = await store.create_token(other["id"], "test")
    stranger = {"Authorization": f"Bearer {token}"}
    assert (await pier.client.get(f"/v1/files/{ids[0]}", headers=stranger)).status_code == 404
    assert (await pier.client.delete(f"/v1/files/{ids[0]}", headers=stranger)).status_code == 404
    assert (await pier.client.get("/v1/files", headers=stranger)).json()["results"] == []

    deleted = await pier.client.delete(f"/v1/files/{ids[0]}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await pier.client.get(f"/v1/files/{ids[0]}")).status_code == 404


async def test_own_file_urls_data_uris_and_external_urls_as_inputs(
    tmp_path: Path, files: str
) -> None:
    async with served(tmp_path, files=files, allow_private_webhooks=False) as pier:
        await pier.add_builtin("image-filter")
        uploaded = await pier.client.post(
            "/v1/files", files={"content": ("blue.png", png(), "image/png")}
        )
        own_url = uploaded.json()["urls"]["get"]
        data_uri = "data:image/png;base64," + base64.b64encode(png()).decode()
        # an external URL: some other server's file (here, a public output URL of this one)
        first = await pier.create(
            "pier/image-filter", {"image": own_url, "filter": "invert"}, wait=60
        )
        external = first.json()["output"]
        for source in (own_url, data_uri, external):
            response = await pier.create(
                "pier/image-filter", {"image": source, "filter": "grayscale"}, wait=60
            )
            body = response.json()
            assert body["status"] == "succeeded", body
            async with httpx.AsyncClient() as http:
                image = await http.get(body["output"])
            assert image.status_code == 200 and image.headers["content-type"] == "image/png"


async def test_python_client_files_and_file_inputs(tmp_path: Path, files: str) -> None:
    async with served(tmp_path, files=files) as pier:
        await pier.add_builtin("image-filter")
        client = replicate.Client(api_token=pier.token, base_url=pier.services.base_url)
        data = png((255, 0, 0))
        made = await asyncio.to_thread(
            client.files.create, io.BytesIO(data), filename="red.png", metadata={"k": "v"}
        )
        assert made.name == "red.png" and made.metadata == {"k": "v"}
        assert made.content_type == "image/png" and made.size == len(data)
        assert (await asyncio.to_thread(client.files.get, made.id)).etag == made.etag
        listed = await asyncio.to_thread(client.files.list)
        assert made.id in [f.id for f in listed]
        # run() uploads a file input through the Files API and the model reads it
        output = await asyncio.to_thread(
            client.run, "pier/image-filter", input={"image": io.BytesIO(data), "filter": "invert"}
        )
        async with httpx.AsyncClient() as http:
            inverted = Image.open(io.BytesIO((await http.get(str(output))).content))
        assert inverted.getpixel((1, 1)) == (0, 255, 255)
        await asyncio.to_thread(client.files.delete, made.id)
        assert made.id not in [f.id for f in await asyncio.to_thread(client.files.list)]
        client._client.close()  # the client has no close(); its sockets would leak


async def test_served_files_cannot_run_scripts(pier: Pier) -> None:
    await pier.add_fixture("test/image", "output_path_image.py")
    body = (await pier.create("test/image", {"color": "red"}, wait=60)).json()
    response = await pier.client.get(body["output"], headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


async def test_downloads_stream_whole_files_and_ranges(pier: Pier) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB: more than one chunk from the file store
    made = (await pier.client.post("/v1/files", files={"content": ("data.bin", data)})).json()
    stored = await pier.services.store.get_file(made["id"], pier.info.account["id"])
    assert stored is not None
    public = f"/files/{stored['public_token']}/data.bin"
    download = f"/v1/files/{made['id']}/download"

    whole = await pier.client.get(download)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["content-disposition"] == 'attachment; filename="data.bin"'
    assert (
        whole.headers["etag"] == f'"{made["etag"]}"' and whole.headers["accept-ranges"] == "bytes"
    )
    assert whole.headers["content-security-policy"] == "sandbox"

    anonymous = {"Authorization": ""}
    cases = [
        ("bytes=10-19", 10, 20),
        ("bytes=2097000-", 2097000, len(data)),
        ("bytes=-7", -7, None),
    ]
    for header, first, stop in cases:
        part = await pier.client.get(public, headers={**anonymous, "Range": header})
        assert part.status_code == 206, header
        assert part.content == data[first:stop]
        start = first % len(data)
        end = start + len(part.content) - 1
        assert part.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
        assert "immutable" in part.headers["cache-control"]
    # several ranges, or a stale If-Range: the whole file, which RFC 9110 allows
    for headers in ({"Range": "bytes=0-1,5-6"}, {"Range": "bytes=0-1", "If-Range": '"old"'}):
        assert (await pier.client.get(download, headers=headers)).content == data
    past = await pier.client.get(download, headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(data)}"
    assert past.headers["content-type"] == "application/problem+json"

    empty = (await pier.client.post("/v1/files", files={"content": ("e.txt", b"")})).json()
    got = await pier.client.get(f"/v1/files/{empty['id']}/download")
    assert got.status_code == 200 and got.content == b"" and got.headers["content-length"] == "0"


async def test_a_file_whose_bytes_are_gone_is_a_404(pier: Pier) -> None:
    made = (await pier.client.post("/v1/files", files={"content": ("a.txt", b"abc")})).json()
    stored = await pier.services.store.get_file(made["id"], pier.info.account["id"])
    assert stored is not None
    pier.services.files.blobs.delete(stored["path"])
    assert (await pier.client.get(f"/v1/files/{made['id']}/download")).status_code == 404
    public = f"/files/{stored['public_token']}/a.txt"
    assert (await pier.client.get(public, headers={"Authorization": ""})).status_code == 404
