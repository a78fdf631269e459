"""Retention: API predictions lose their input, output, logs and files after the retention
period and say `data_removed: true`; playground predictions stay until deleted."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import httpx

from tests.conftest import Pier, query_database, running_pier

BIG = "data:text/plain;base64," + base64.b64encode(b"x" * 300_000).decode()


async def _until(client: httpx.AsyncClient, pid: str, check, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await client.get(f"/v1/predictions/{pid}")).json()
        if check(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


def _ended(body: dict) -> bool:
    return body["status"] in ("succeeded", "failed", "canceled")


def _file_rows(pier: Pier, pid: str) -> list[tuple]:
    return query_database(
        pier.services.settings, "SELECT path FROM files WHERE prediction_id = :p", p=pid
    )


async def test_api_predictions_lose_their_data_after_the_period(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(
        tmp_path, database=database, api_data_retention=1.0, lease_seconds=1.0
    ) as pier:
        await pier.add_fixture("acme/image", "output_path_image.py")
        await pier.add_fixture("acme/reader", "input_path.py")
        made = (await pier.create("acme/image", {"color": "blue"})).json()
        done = await _until(pier.client, made["id"], _ended)
        output_url = done["output"]
        assert (await pier.client.get(output_url)).status_code == 200
        read = (await pier.create("acme/reader", {"image": BIG})).json()
        assert read["input"]["image"].startswith("http")  # stored as a file of the prediction
        assert _file_rows(pier, read["id"])
        web = await pier.client.post(
            "/v1/models/acme/image/predictions",
            json={"input": {"color": "red"}},
            headers={"X-Pier-Source": "web"},
        )
        web_done = await _until(pier.client, web.json()["id"], _ended)

        removed = await _until(pier.client, made["id"], lambda b: b["data_removed"], timeout=20)
        assert (removed["input"], removed["output"], removed["logs"]) == ({}, None, "")
        assert removed["status"] == "succeeded" and removed["metrics"]["predict_time"] > 0
        assert (await pier.client.get(output_url)).status_code == 404
        await _until(pier.client, read["id"], lambda b: b["data_removed"], timeout=20)
        assert _file_rows(pier, read["id"]) == []
        blobs = pier.services.settings.data_dir / "files"
        assert not [p for p in blobs.rglob("*") if p.is_file() and read["id"] in str(p)]

        kept = (await pier.client.get(f"/v1/predictions/{web_done['id']}")).json()
        assert kept["data_removed"] is False and kept["output"] == web_done["output"]
        assert (await pier.client.get(web_done["output"])).status_code == 200


async def test_an_account_chooses_its_own_period(tmp_path: Path) -> None:
    async with running_pier(tmp_path, api_data_retention=0.5, lease_seconds=1.0) as pier:
        await pier.add_fixture("acme/hello", "hello_world.py")
        chosen = await pier.client.patch("/v1/account", json={"data_retention_seconds": 3600})
        assert chosen.status_code == 200 and chosen.json()["data_retention_seconds"] == 3600
        made = (await pier.create("acme/hello", {"text": "you"})).json()
        await _until(pier.client, made["id"], _ended)
        other = (await pier.create("acme/hello", {"text": "me"})).json()
        # the keeper sweeps every lease (1 s): after three sweeps it is still there
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            body = (await pier.client.get(f"/v1/predictions/{made['id']}")).json()
            assert body["data_removed"] is False and body["output"] == "hello you"
            await asyncio.sleep(0.25)
        back = await pier.client.patch("/v1/account", json={"data_retention_seconds": None})
        assert back.json()["data_retention_default"] is True
        await _until(pier.client, other["id"], lambda b: b["data_removed"], timeout=20)
        for bad in ({"data_retention_seconds": -1}, {"data_retention_seconds": "x"}, {"x": 1}):
            refused = await pier.client.patch("/v1/account", json=bad)
            assert refused.status_code == 422, refused.text


async def test_deleting_a_prediction_removes_it_and_its_files(pier: Pier) -> None:
    await pier.add_fixture("acme/image", "output_path_image.py")
    await pier.add_fixture("acme/sleep", "sleep.py")
    made = (await pier.create("acme/image", {"color": "green"})).json()
    done = await _until(pier.client, made["id"], _ended)
    deadline = time.monotonic() + 10
    while not _file_rows(pier, made["id"]):  # the end shows a moment before it is written
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    deleted = await pier.client.delete(f"/v1/predictions/{made['id']}")
    assert deleted.status_code == 204
    assert (await pier.client.get(f"/v1/predictions/{made['id']}")).status_code == 404
    assert (await pier.client.get(done["output"])).status_code == 404
    assert _file_rows(pier, made["id"]) == []
    running = (await pier.create("acme/sleep", {"sleep": 30})).json()
    refused = await pier.client.delete(f"/v1/predictions/{running['id']}")
    assert refused.status_code == 409
    assert (await pier.client.delete("/v1/predictions/nope")).status_code == 404
    await pier.client.post(f"/v1/predictions/{running['id']}/cancel")
