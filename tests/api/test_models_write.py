"""Models made, changed and deleted over the API; collections and hardware (in-process, on SQLite
and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx

from pier.blobs.archive import write_archive
from tests.conftest import Pier, model_dir

Headers = dict[str, str]


async def account(pier: Pier, username: str) -> Headers:
    row = await pier.services.store.create_account(username)
    token = await pier.services.store.create_token(row["id"], "test")
    return {"Authorization": f"Bearer {token}"}


async def create(pier: Pier, headers: Headers, **body: Any) -> httpx.Response:
    return await pier.client.post("/v1/models", json=body, headers=headers)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


async def push(pier: Pier, headers: Headers, ref: str, fixture: str) -> httpx.Response:
    archive = pier.tmp / f"{fixture}.tar.gz"
    write_archive(model_dir(pier.tmp, fixture), archive)
    return await pier.client.post(
        f"/v1/models/{ref}/versions",
        content=archive.read_bytes(),
        headers={**headers, "Content-Type": "application/gzip"},
    )


async def test_create_push_change_and_delete(pier: Pier) -> None:
    carol = await account(pier, "carol")
    made = await create(
        pier,
        carol,
        owner="carol",
        name="my-model_1.0",
        visibility="private",
        hardware="cpu",
        description="Says hello.",
        github_url="https://github.com/carol/my-model",
    )
    assert made.status_code == 201, made.text
    model = made.json()
    assert model["owner"] == "carol" and model["name"] == "my-model_1.0"
    assert model["visibility"] == "private" and model["hardware"] == "cpu"
    assert model["description"] == "Says hello." and model["run_count"] == 0
    assert model["github_url"] == "https://github.com/carol/my-model"
    assert model["paper_url"] is None and model["latest_version"] is None
    assert model["url"].endswith("/models/carol/my-model_1.0")
    got = await pier.client.get("/v1/models/carol/my-model_1.0", headers=carol)
    assert got.json() == model
    versions = await pier.client.get("/v1/models/carol/my-model_1.0/versions", headers=carol)
    assert versions.json()["results"] == []

    again = await create(pier, carol, owner="carol", name="my-model_1.0", visibility="public")
    assert "already exists" in problem(again, 409)["detail"]

    changed = await pier.client.patch(
        "/v1/models/carol/my-model_1.0",
        json={"visibility": "public", "paper_url": "https://arxiv.org/abs/1", "description": ""},
        headers=carol,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["visibility"] == "public" and changed.json()["description"] is None
    assert changed.json()["paper_url"] == "https://arxiv.org/abs/1"
    assert changed.json()["github_url"] == "https://github.com/carol/my-model"  # left alone
    await pier.client.patch(
        "/v1/models/carol/my-model_1.0", json={"description": "Kept."}, headers=carol
    )

    empty = await pier.client.post(
        "/v1/models/carol/my-model_1.0/predictions", json={"input": {}}, headers=carol
    )
    assert "has no versions yet" in problem(empty, 422)["detail"]
    pushed = await push(pier, carol, "carol/my-model_1.0", "hello_world.py")
    assert pushed.status_code == 201, pushed.text
    after = (await pier.client.get("/v1/models/carol/my-model_1.0", headers=carol)).json()
    assert after["latest_version"]["id"] == pushed.json()["id"]
    assert after["description"] == "Kept."  # a push without pier.yaml does not clear it

    refused = await pier.client.delete("/v1/models/carol/my-model_1.0", headers=carol)
    assert "no versions" in problem(refused, 409)["detail"]
    assert (await pier.client.get("/v1/models/carol/my-model_1.0", headers=carol)).is_success

    await create(pier, carol, owner="carol", name="empty", visibility="private", hardware="cpu")
    deleted = await pier.client.delete("/v1/models/carol/empty", headers=carol)
    assert deleted.status_code == 204 and not deleted.content
    problem(await pier.client.get("/v1/models/carol/empty", headers=carol), 404)
    problem(await pier.client.delete("/v1/models/carol/empty", headers=carol), 404)
    remade = await create(pier, carol, owner="carol", name="empty", visibility="private")
    assert remade.status_code == 201 and remade.json()["hardware"] is None


async def test_private_models_are_their_owners_and_public_ones_everyones(pier: Pier) -> None:
    carol, dave = await account(pier, "carol"), await account(pier, "dave")
    await create(pier, carol, owner="carol", name="secret", visibility="private", hardware="cpu")
    await create(pier, carol, owner="carol", name="open", visibility="public", hardware="cpu")
    problem(await pier.client.get("/v1/models/carol/secret", headers=dave), 404)
    assert (await pier.client.get("/v1/models/carol/open", headers=dave)).is_success
    listed = (await pier.client.get("/v1/models", headers=dave)).json()["results"]
    assert [m["name"] for m in listed] == ["open"]
    for method, body in (("PATCH", {"description": "mine now"}), ("DELETE", None)):
        hidden = await pier.client.request(
            method, "/v1/models/carol/secret", json=body, headers=dave
        )
        problem(hidden, 404)
        seen = await pier.client.request(method, "/v1/models/carol/open", json=body, headers=dave)
        assert "another account" in problem(seen, 403)["detail"]
    assert (await pier.client.get("/v1/models/carol/open", headers=carol)).json()[
        "description"
    ] is None
    # another's namespace, whether or not a model is there: nothing is made, nothing told
    for name in ("secret", "new-one"):
        theirs = await create(pier, dave, owner="carol", name=name, visibility="private")
        assert "dave/" in problem(theirs, 403)["detail"]
    # the admin may start a namespace nobody holds, not take a person's
    assert (await create(pier, {}, owner="team", name="m", visibility="public")).status_code == 201
    problem(await create(pier, {}, owner="carol", name="m", visibility="public"), 403)


async def test_bad_input_is_a_422_naming_each_field(pier: Pier) -> None:
    me: Headers = {}
    bad = await create(
        pier,
        me,
        owner="admin",
        name="Bad Name",
        visibility="hidden",
        hardware="tpu-v9",
        description=5,
        github_url="ftp://x",
        cover_image_url="http://plain.example/cover.png",
        colour="blue",
    )
    fields = {f["field"]: f["type"] for f in problem(bad, 422)["invalid_fields"]}
    assert fields == {
        "name": "format",
        "visibility": "enum",
        "hardware": "enum",
        "description": "type",
        "github_url": "format",
        "cover_image_url": "format",
        "colour": "additional_property_not_allowed",
    }
    assert "- hardware: Must be one of cpu, gpu." in bad.json()["detail"]
    missing = problem(await create(pier, me, visibility="public"), 422)
    assert {f["field"]: f["type"] for f in missing["invalid_fields"]} == {
        "owner": "required",
        "name": "required",
    }
    for name in ("-lead", "UPPER", "a/b", "x" * 129, "sp ace", ""):
        problem(await create(pier, me, owner="admin", name=name), 422)
    long = await create(pier, me, owner="admin", name="m", description="x" * 5001)
    assert problem(long, 422)["invalid_fields"][0]["type"] == "max_length"
    for body in (b"[]", b"{", b""):
        sent = await pier.client.post(
            "/v1/models", content=body, headers={"Content-Type": "application/json"}
        )
        problem(sent, 400)

    assert (await create(pier, me, owner="admin", name="ok", visibility="private")).is_success
    for change in ({"name": "renamed"}, {"owner": "bob"}, {"visibility": None}, {"x": 1}):
        problem(await pier.client.patch("/v1/models/admin/ok", json=change), 422)
    problem(await pier.client.patch("/v1/models/admin/nothing", json={}), 404)
    problem(await pier.client.delete("/v1/models/admin/nothing"), 404)
    same = await pier.client.patch("/v1/models/admin/ok", json={})
    assert same.status_code == 200 and same.json()["name"] == "ok"


async def test_hardware_lists_the_operators_classes(pier: Pier) -> None:
    assert (await pier.client.get("/v1/hardware")).json() == [
        {"sku": "cpu", "name": "CPU"},
        {"sku": "gpu", "name": "GPU"},
    ]
    for sku in ("nvidia-a100-80gb", "gpu"):
        price = {"hardware": sku, "per_second_usd": "0.001"}
        assert (await pier.client.put("/v1/admin/prices", json=price)).is_success
    listed = (await pier.client.get("/v1/hardware", headers={"Authorization": ""})).json()
    assert listed == [
        {"sku": "cpu", "name": "CPU"},
        {"sku": "gpu", "name": "GPU"},
        {"sku": "nvidia-a100-80gb", "name": "Nvidia A100 80GB"},
    ]
    made = await create(pier, {}, owner="admin", name="big", hardware="nvidia-a100-80gb")
    assert made.json()["hardware"] == "nvidia-a100-80gb"


async def test_collections_group_what_each_account_sees_by_kind(pier: Pier) -> None:
    await pier.add_fixture("admin/texter", "hello_world.py")  # text output
    await pier.add_builtin("image-filter")  # image output, public
    carol, dave = await account(pier, "carol"), await account(pier, "dave")
    await create(pier, carol, owner="carol", name="hidden", visibility="private")

    listed = (await pier.client.get("/v1/collections", headers=dave)).json()
    assert listed["next"] is None and listed["previous"] is None
    assert [c["slug"] for c in listed["results"]] == ["image"]
    assert set(listed["results"][0]) == {"name", "slug", "description"}
    mine = (await pier.client.get("/v1/collections", headers=carol)).json()["results"]
    assert [c["slug"] for c in mine] == ["image", "other"]
    admin = (await pier.client.get("/v1/collections")).json()["results"]
    assert [c["slug"] for c in admin] == ["image", "text"]

    image = (await pier.client.get("/v1/collections/image", headers=dave)).json()
    assert image["name"] == "Image models" and image["description"]
    assert [f"{m['owner']}/{m['name']}" for m in image["models"]] == ["pier/image-filter"]
    assert image["models"][0]["latest_version"]["openapi_schema"]
    other = (await pier.client.get("/v1/collections/other", headers=dave)).json()
    assert other["models"] == []
    others = (await pier.client.get("/v1/collections/other", headers=carol)).json()["models"]
    assert [m["name"] for m in others] == ["hidden"]
    problem(await pier.client.get("/v1/collections/nope", headers=dave), 404)
    problem(await pier.client.get("/v1/collections?cursor=%%%", headers=dave), 400)
