"""Models and versions through the in-process API."""

from __future__ import annotations

from tests.conftest import Pier


async def test_model_and_versions(pier: Pier) -> None:
    version = await pier.add_builtin("echo")
    model = (await pier.client.get("/v1/models/pier/echo")).json()
    assert model["owner"] == "pier" and model["name"] == "echo"
    assert model["visibility"] == "public" and isinstance(model["run_count"], int)
    assert model["latest_version"]["id"] == version["id"]
    assert isinstance(model["latest_version"]["cog_version"], str)
    schema = model["latest_version"]["openapi_schema"]
    assert schema["components"]["schemas"]["Input"]["required"] == ["text"]
    versions = (await pier.client.get("/v1/models/pier/echo/versions")).json()
    assert [v["id"] for v in versions["results"]] == [version["id"]]
    one = await pier.client.get(f"/v1/models/pier/echo/versions/{version['id']}")
    assert one.status_code == 200 and one.json()["openapi_schema"] == schema
    assert (await pier.client.get("/v1/models/pier/echo/versions/" + "0" * 64)).status_code == 404
    readme = await pier.client.get("/v1/models/pier/echo/readme")
    assert readme.status_code == 200 and "pier/echo" in readme.text


async def test_same_content_same_version(pier: Pier) -> None:
    first = await pier.add_builtin("echo")
    again = await pier.add_builtin("echo")
    assert first["id"] == again["id"]


async def test_list_and_search(pier: Pier) -> None:
    await pier.add_builtin("echo")
    await pier.add_builtin("slow")
    names = [m["name"] for m in (await pier.client.get("/v1/models")).json()["results"]]
    assert names == ["echo", "slow"]
    found = await pier.client.request(
        "QUERY", "/v1/models", content=b'"progress"', headers={"content-type": "text/plain"}
    )
    assert [m["name"] for m in found.json()["results"]] == ["slow"]
