"""Predictions through the in-process API: create, wait, get, list, cancel, errors."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
from PIL import Image

from tests.conftest import FILE_STORES, Pier


async def test_sync_prediction_returns_terminal_output(pier: Pier) -> None:
    version = await pier.add_builtin("echo")
    response = await pier.create("pier/echo", {"text": "hi", "repeat": 2}, wait=30)
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait=30"
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["output"] == "You said: hi hi"
    assert body["version"] == version["id"] and len(body["version"]) == 64
    assert body["model"] == "pier/echo"
    assert body["input"] == {"text": "hi", "uppercase": False, "repeat": 2}
    for key in ("created_at", "started_at", "completed_at"):
        assert body[key].endswith("Z")
    assert body["metrics"]["predict_time"] >= 0
    assert body["metrics"]["total_time"] >= body["metrics"]["predict_time"]
    assert "queue_time" in body["metrics"]
    assert set(body["urls"]) >= {"get", "cancel", "web"}
    assert all(isinstance(v, str) for v in body["urls"].values())
    assert body["data_removed"] is False and body["source"] == "api"


async def test_create_by_version_id_and_async_polling(pier: Pier) -> None:
    version = await pier.add_builtin("echo")
    response = await pier.client.post(
        "/v1/predictions", json={"version": version["id"], "input": {"text": "poll"}}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] in ("starting", "processing", "succeeded")
    done = await pier.wait_done(body["id"])
    assert done["output"] == "You said: poll"
    # owner/name:version also names a version
    response = await pier.client.post(
        "/v1/predictions",
        json={"version": f"pier/echo:{version['id']}", "input": {"text": "x"}},
        headers={"Prefer": "wait"},
    )
    assert response.json()["output"] == "You said: x"


async def test_wait_that_runs_out_returns_starting_without_output(pier: Pier) -> None:
    await pier.add_builtin("stream-words")
    response = await pier.create("pier/stream-words", {"text": "a b c d e f", "delay": 0.5}, wait=1)
    body = response.json()
    assert body["status"] == "starting"
    assert body["output"] is None
    done = await pier.wait_done(body["id"])
    assert done["output"] == ["a ", "b ", "c ", "d ", "e ", "f"]


async def test_invalid_input_is_422_naming_each_field(pier: Pier) -> None:
    await pier.add_builtin("echo")
    response = await pier.create("pier/echo", {"repeat": 99, "uppercase": "yes"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "Input validation failed"
    fields = {f["field"]: f["type"] for f in body["invalid_fields"]}
    # Replicate names a missing field in the description of a `required` problem on `input`
    assert {"type": "required", "field": "input", "description": "text is required"} in body[
        "invalid_fields"
    ]
    assert fields["input.repeat"] == "number_lte"
    assert "input.uppercase" in fields
    assert "input.repeat" in body["detail"]
    listed = (await pier.client.get("/v1/predictions")).json()["results"]
    assert listed == []  # nothing was queued


async def test_bad_requests_get_clear_problems(pier: Pier) -> None:
    await pier.add_builtin("echo")
    malformed = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400 and "JSON" in malformed.json()["detail"]
    not_object = await pier.client.post("/v1/models/pier/echo/predictions", json=[1, 2])
    assert not_object.status_code == 400
    unknown_model = await pier.create("nobody/nothing", {})
    assert unknown_model.status_code == 404
    unknown_version = await pier.client.post(
        "/v1/predictions", json={"version": "f" * 64, "input": {}}
    )
    assert unknown_version.status_code == 422
    assert unknown_version.json()["title"] == "Invalid version or not permitted"
    missing = await pier.client.get("/v1/predictions/doesnotexist")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    no_token = await pier.client.get("/v1/predictions", headers={"Authorization": ""})
    assert no_token.status_code == 401 and no_token.json()["title"] == "Unauthenticated"
    bad_token = await pier.client.get("/v1/predictions", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401
    token_scheme = await pier.client.get(
        "/v1/predictions", headers={"Authorization": "Token test-admin-token"}
    )
    assert token_scheme.status_code == 200


async def test_body_too_large_is_413(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import running_pier

    async with running_pier(tmp_path, max_request_bytes=1000) as small:
        response = await small.client.post(
            "/v1/predictions", content=b"x" * 5000, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["status"] == 413


async def test_other_accounts_objects_are_404(pier: Pier) -> None:
    await pier.add_builtin("echo")
    mine = (await pier.create("pier/echo", {"text": "secret"}, wait=10)).json()
    other_account = await pier.services.store.create_account("mallory")
    other = await pier.services.store.create_token(other_account["id"], "t")
    headers = {"Authorization": f"Bearer {other}"}
    response = await pier.client.get(f"/v1/predictions/{mine['id']}", headers=headers)
    assert response.status_code == 404
    response = await pier.client.post(f"/v1/predictions/{mine['id']}/cancel", headers=headers)
    assert response.status_code == 404
    listed = await pier.client.get("/v1/predictions", headers=headers)
    assert listed.json()["results"] == []
    # public models are runnable by everyone; the prediction is theirs alone
    theirs = await pier.client.post(
        "/v1/models/pier/echo/predictions", json={"input": {"text": "m"}}, headers=headers
    )
    assert theirs.status_code == 201


async def test_cancel_queued_and_running(pier: Pier) -> None:
    await pier.add_builtin("slow")
    running = (await pier.create("pier/slow", {"steps": 200, "delay": 0.05})).json()
    queued = (await pier.create("pier/slow", {"steps": 1, "delay": 0})).json()
    view = (await pier.client.get(f"/v1/predictions/{queued['id']}")).json()
    assert view["status"] == "starting"
    assert view["queue"]["position"] == 1 and view["queue"]["ahead"] >= 1
    canceled = (await pier.client.post(f"/v1/predictions/{queued['id']}/cancel")).json()
    assert canceled["status"] == "canceled"
    # wait until the first is really running, then cancel it
    for _ in range(500):
        body = (await pier.client.get(f"/v1/predictions/{running['id']}")).json()
        if body["status"] == "processing" and body["progress"]:
            break
        await asyncio.sleep(0.02)
    assert body["progress"]["total"] == 200
    result = (await pier.client.post(f"/v1/predictions/{running['id']}/cancel")).json()
    assert result["status"] == "canceled"
    assert result["completed_at"] is not None
    after = await pier.create("pier/slow", {"steps": 1, "delay": 0}, wait=30)
    assert after.json()["status"] == "succeeded"


async def test_logs_and_progress_from_tqdm(pier: Pier) -> None:
    await pier.add_builtin("slow")
    body = (await pier.create("pier/slow", {"steps": 5, "delay": 0.01}, wait=30)).json()
    assert body["status"] == "succeeded"
    assert "5/5" in body["logs"]
    assert body["progress"] == {"percent": 100.0, "current": 5, "total": 5}
    assert body["metrics"]["setup_time"] > 0


@pytest.mark.parametrize("files", FILE_STORES, indirect=True)
async def test_file_input_as_data_uri_and_file_output(pier: Pier) -> None:
    await pier.add_builtin("image-filter")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buffer, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = (
        await pier.create("pier/image-filter", {"image": uri, "filter": "invert"}, wait=30)
    ).json()
    assert body["status"] == "succeeded", body
    url = body["output"]
    assert url.startswith(pier.services.base_url + "/files/")
    path = url[len(pier.services.base_url) :]
    image = await pier.client.get(path, headers={"Authorization": ""})
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).getpixel((5, 5)) == (55, 245, 245)


@pytest.mark.parametrize("files", FILE_STORES, indirect=True)
async def test_uploaded_file_url_as_input(pier: Pier) -> None:
    await pier.add_builtin("image-filter")
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 0, 0)).save(buffer, "PNG")
    upload = await pier.client.post(
        "/v1/files",
        files={"content": ("black.png", buffer.getvalue(), "image/png")},
        data={"metadata": '{"purpose": "test"}'},
    )
    assert upload.status_code == 201
    file = upload.json()
    assert file["name"] == "black.png" and file["etag"] and file["metadata"] == {"purpose": "test"}
    body = (
        await pier.create(
            "pier/image-filter",
            {"image": file["urls"]["get"], "filter": "invert", "output_format": "jpg"},
            wait=30,
        )
    ).json()
    assert body["status"] == "succeeded", body
    assert body["output"].endswith(".jpg")


async def test_list_is_paginated_newest_first_with_absolute_next(pier: Pier) -> None:
    await pier.add_builtin("echo")
    from pier.api.routes import predictions as routes

    routes.PAGE_SIZE, saved = 3, routes.PAGE_SIZE
    try:
        ids = [(await pier.create("pier/echo", {"text": str(i)})).json()["id"] for i in range(5)]
        first = (await pier.client.get("/v1/predictions")).json()
        assert [p["id"] for p in first["results"]] == ids[::-1][:3]
        assert first["next"].startswith(pier.services.base_url + "/v1/predictions?cursor=")
        second = (await pier.client.get(first["next"])).json()
        assert [p["id"] for p in second["results"]] == ids[::-1][3:]
        assert second["next"] is None
    finally:
        routes.PAGE_SIZE = saved


async def test_odd_requests_never_500(pier: Pier) -> None:
    await pier.add_builtin("echo")
    await pier.add_builtin("image-filter")
    cases = [
        ("POST", "/v1/predictions", {"version": 5, "input": {}}, 422),
        ("POST", "/v1/predictions", {"version": "pier/echo", "input": [1]}, 422),
        ("POST", "/v1/models/pier/image-filter/predictions", {"input": {"image": "ftp://x"}}, 422),
        ("GET", "/v1/predictions?cursor=garbage", None, 400),
        ("GET", "/v1/predictions?cursor=WyJ4Il0", None, 400),
        ("GET", "/v1/models?cursor=%%%", None, 400),
        ("POST", "/v1/files", None, 415),
        ("POST", "/auth/login", {"code": 5}, 400),
        ("PATCH", "/v1/predictions", None, 405),
    ]
    for method, path, body, status in cases:
        response = await pier.client.request(method, path, json=body)
        assert response.status_code == status, (path, response.text)
        assert response.json()["status"] == status
    broken = await pier.create(
        "pier/image-filter", {"image": "http://127.0.0.1:9/nothing.png"}, wait=30
    )
    assert broken.json()["status"] == "failed"
    error = broken.json()["error"]
    # file inputs are not fetched from Pier's own network unless the operator allows it
    assert "Downloading http://127.0.0.1:9/nothing.png failed" in error
    assert "no public address" in error
