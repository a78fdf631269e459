"""Deployments through the API: releases, predictions through one, the model processes kept
loaded (min_instances) and the cap on those running (max_instances), and bad input."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import BUILTIN, Pier, running_pier


async def deploy(pier: Pier, **fields: Any) -> dict[str, Any]:
    made = await pier.client.post("/v1/deployments", json=fields)
    assert made.status_code == 200, made.text
    return made.json()  # type: ignore[no-any-return]


async def until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_releases_number_up_and_predictions_run_the_current_one(pier: Pier) -> None:
    first = await pier.add_builtin("echo")
    second = await pier.add_fixture("pier/echo", "hello_world.py")  # a later version of it
    made = await deploy(
        pier,
        name="admin/greeter",  # the owner prefix the Python client strips is accepted
        model="pier/echo",
        version=first["id"],
        hardware="cpu",
        min_instances=0,
        max_instances=1,
    )
    release = made["current_release"]
    assert (made["owner"], made["name"], release["number"]) == ("admin", "greeter", 1)
    assert release["model"] == "pier/echo" and release["version"] == first["id"]
    assert release["created_by"]["username"] == "admin" and release["created_by"]["name"]
    assert release["configuration"] == {"hardware": "cpu", "min_instances": 0, "max_instances": 1}

    url = "/v1/deployments/admin/greeter"
    run = await pier.client.post(
        f"{url}/predictions", json={"input": {"text": "hi"}}, headers={"Prefer": "wait=30"}
    )
    assert run.status_code == 201, run.text
    body = run.json()
    assert (body["status"], body["output"]) == ("succeeded", "You said: hi")
    assert body["version"] == first["id"] and body["deployment"] == "admin/greeter"

    changed = await pier.client.patch(url, json={"version": second["id"], "max_instances": 2})
    assert changed.status_code == 200, changed.text
    release = changed.json()["current_release"]
    assert release["number"] == 2 and release["version"] == second["id"]
    assert release["configuration"]["max_instances"] == 2
    again = await pier.client.patch(url, json={"min_instances": 1})
    assert again.json()["current_release"]["number"] == 3
    assert again.json()["current_release"]["version"] == second["id"]
    run = await pier.client.post(
        f"{url}/predictions", json={"input": {"text": "you"}}, headers={"Prefer": "wait=30"}
    )
    assert run.json()["output"] == "hello you"

    listed = (await pier.client.get("/v1/deployments")).json()
    assert [d["name"] for d in listed["results"]] == ["greeter"] and listed["next"] is None
    busy = await pier.client.post(f"{url}/predictions", json={"input": {"text": "x"}})
    refused = await pier.client.delete(url)  # the prediction may still wait or run
    if refused.status_code == 409:
        assert "waiting or running" in refused.json()["detail"]
        await pier.wait_done(busy.json()["id"])
        refused = await pier.client.delete(url)
    assert refused.status_code == 204
    assert (await pier.client.get(url)).status_code == 404
    # the predictions made through it stay, naming it
    kept = await pier.client.get(f"/v1/predictions/{busy.json()['id']}")
    assert kept.json()["deployment"] == "admin/greeter"


async def test_min_instances_keeps_a_process_loaded_with_nothing_to_run(pier: Pier) -> None:
    version = await pier.add_builtin("slow")
    await deploy(pier, name="warm", model="pier/slow", version=version["id"], min_instances=1)
    pools = pier.services.dispatcher.pools

    async def loaded() -> int:
        pool = pools.get(version["id"])
        return pool.loaded if pool is not None else 0

    assert await until(loaded) == 1  # no prediction was made

    async def shown() -> int:
        got = (await pier.client.get("/v1/deployments/admin/warm")).json()
        return int(got["instances"]["loaded"])

    assert await until(shown) == 1  # from the heartbeats, as the playground shows it
    cluster = (await pier.client.get("/v1/admin/cluster")).json()
    loaded_versions = [item for p in cluster["processes"] for item in p["loaded"]]
    assert any(
        item["version"] == version["id"] and item["model"] == "pier/slow"
        for item in loaded_versions
    )


async def test_max_instances_caps_the_processes_running_at_once(tmp_path: Any) -> None:
    async with running_pier(tmp_path, workers=3) as pier:
        version = await pier.add_model("pier/slow", BUILTIN / "slow")
        await deploy(pier, name="capped", model="pier/slow", version=version["id"], max_instances=1)
        url = "/v1/deployments/admin/capped/predictions"
        made = [
            (await pier.client.post(url, json={"input": {"steps": 4, "delay": 0.1}})).json()
            for _ in range(3)
        ]
        done = [await pier.wait_done(p["id"]) for p in made]
        spans = sorted((p["started_at"], p["completed_at"]) for p in done)
        for (_, ended), (started, _) in zip(spans, spans[1:], strict=False):
            assert started >= ended, spans  # one after the other, never two at once
        pool = pier.services.dispatcher.pools[version["id"]]
        assert pool.loaded == 1
        # a higher cap lets them run side by side
        status = await pier.client.patch("/v1/deployments/admin/capped", json={"max_instances": 3})
        assert status.status_code == 200
        made = [
            (await pier.client.post(url, json={"input": {"steps": 10, "delay": 0.1}})).json()
            for _ in range(3)
        ]
        done = [await pier.wait_done(p["id"]) for p in made]
        spans = sorted((p["started_at"], p["completed_at"]) for p in done)
        assert any(
            started < ended for (_, ended), (started, _) in zip(spans, spans[1:], strict=False)
        )


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "x", "model": "pier/echo", "version": "0" * 64}, "not a version of pier/echo"),
        ({"name": "x", "model": "pier/nothing", "version": "0" * 64}, "does not exist"),
        ({"name": "x", "model": "pier/echo", "version": "{v}", "hardware": "gpu-h100"}, "one of"),
        ({"name": "x", "model": "pier/echo", "version": "{v}", "max_instances": 0}, "at least 1"),
        (
            {"name": "x", "model": "pier/echo", "version": "{v}", "min_instances": 3},
            "at most max_instances",
        ),
        ({"name": "x", "model": "pier/echo", "version": "{v}", "min_instances": -1}, "between"),
        ({"name": "x", "model": "pier/echo", "version": "{v}", "max_instances": "2"}, "whole"),
        ({"name": "x", "model": "pier/echo", "version": "{v}", "gpus": 1}, "not a field"),
        ({"name": "Bad Name", "model": "pier/echo", "version": "{v}"}, "lowercase"),
        ({"name": "bob/x", "model": "pier/echo", "version": "{v}"}, "your own account"),
        ({"model": "pier/echo", "version": "{v}"}, "name"),
    ],
)
async def test_bad_input_is_a_clear_422(pier: Pier, fields: dict[str, Any], words: str) -> None:
    version = await pier.add_builtin("echo")
    body = {k: (version["id"] if v == "{v}" else v) for k, v in fields.items()}
    refused = await pier.client.post("/v1/deployments", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert words in refused.json()["detail"]


async def test_bad_changes_are_refused_and_make_no_release(pier: Pier) -> None:
    version = await pier.add_builtin("echo")
    await deploy(pier, name="d", model="pier/echo", version=version["id"], max_instances=2)
    url = "/v1/deployments/admin/d"
    for body in ({}, {"min_instances": 3}, {"name": "other"}, {"version": "f" * 64}):
        refused = await pier.client.patch(url, json=body)
        assert refused.status_code == 422, (body, refused.text)
    again = await pier.client.post(
        "/v1/deployments", json={"name": "d", "model": "pier/echo", "version": version["id"]}
    )
    assert again.status_code == 409
    got = (await pier.client.get(url)).json()
    assert got["current_release"]["number"] == 1
    bad = await pier.client.post(f"{url}/predictions", json={"input": {"repeat": 50}})
    assert bad.status_code == 422 and "text" in bad.json()["detail"]
    assert (await pier.client.get("/v1/deployments/admin/none")).status_code == 404
    assert (
        await pier.client.post("/v1/deployments/admin/none/predictions", json={})
    ).status_code == 404


async def test_a_model_made_private_is_no_longer_run_through_anothers_deployment(
    pier: Pier,
) -> None:
    version = await pier.add_builtin("echo")
    store = pier.services.store
    model = await store.get_model("pier", "echo")
    assert model is not None
    await store.update_model(model["id"], visibility="public")
    bob = await store.create_account("bob")
    headers = {"Authorization": f"Bearer {await store.create_token(bob['id'], 'test')}"}
    body = {"name": "mine", "model": "pier/echo", "version": version["id"]}
    made = await pier.client.post("/v1/deployments", json=body, headers=headers)
    assert made.status_code == 200, made.text
    assert made.json()["owner"] == "bob"
    await store.update_model(model["id"], visibility="private")
    url = "/v1/deployments/bob/mine/predictions"
    refused = await pier.client.post(url, json={"input": {"text": "x"}}, headers=headers)
    assert refused.status_code == 422
    assert "may no longer use" in refused.json()["detail"]
