"""What a prediction keeps of its secrets, and what a model process sees of the server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from pier.dispatch.rows import new_prediction
from tests.conftest import Pier, model_dir, query_database, running_pier


def stored_secret(pier: Pier, prediction_id: str) -> Any:
    """The prediction's `secret_input` column as the database holds it: its JSON text, or None
    for SQL NULL (a JSON `null` would be the text 'null')."""
    sql = "SELECT CAST(secret_input AS TEXT) FROM predictions WHERE id = :id"
    [(value,)] = query_database(pier.services.settings, sql, id=prediction_id)
    return value


async def secret_once_ended(pier: Pier, prediction_id: str) -> Any:
    """`secret_input` as stored with the prediction's final status (an API client may hear of
    the end a moment before the final write commits)."""
    sql = "SELECT status, CAST(secret_input AS TEXT) FROM predictions WHERE id = :id"
    deadline = time.monotonic() + 10
    while True:
        [(status, value)] = query_database(pier.services.settings, sql, id=prediction_id)
        if status in ("succeeded", "failed", "canceled"):
            return value
        assert time.monotonic() < deadline, f"still {status} in the store"
        await asyncio.sleep(0.02)


async def test_a_secret_is_cleared_from_the_store_when_the_prediction_ends(pier: Pier) -> None:
    await pier.add_fixture("t/secret", "input_secret.py")
    created = (await pier.create("t/secret", {"token": "abc123"})).json()
    body = await pier.wait_done(created["id"])
    assert body["status"] == "succeeded" and body["output"] == "**********|321cba"
    assert await secret_once_ended(pier, created["id"]) is None


async def test_a_canceled_prediction_clears_its_secret_too(pier: Pier) -> None:
    await pier.add_fixture("t/secret", "input_secret.py")
    created = (await pier.create("t/secret", {"token": "abc123"})).json()
    await pier.client.post(f"/v1/predictions/{created['id']}/cancel")
    body = await pier.wait_done(created["id"])
    assert body["status"] in ("canceled", "succeeded")  # it may have ended first
    assert await secret_once_ended(pier, created["id"]) is None


async def test_restart_recovery_clears_the_secrets_of_what_it_ends(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, database=database) as first:
        version = await first.add_fixture("t/secret", "input_secret.py")
        store, account = first.services.store, first.info.account
        model = await store.get_model("t", "secret")
        assert model is not None
        secret = {"token": "abc123"}
        # what a crash leaves behind: one running, one queued for a version that is gone,
        # one that ended before secrets were cleared at the end
        running = new_prediction(account["id"], model, version, {}, secret_input=secret)
        running["status"] = "processing"
        orphan = new_prediction(
            account["id"], model, {**version, "id": "gone"}, {}, secret_input=secret
        )
        ended = new_prediction(account["id"], model, version, {}, secret_input=secret)
        ended["status"] = "succeeded"
        for row in (running, orphan, ended):
            await store.insert_prediction(row)
        assert stored_secret(first, running["id"]) is not None
    async with running_pier(tmp_path, database=database) as second:
        for row in (running, orphan, ended):
            assert stored_secret(second, row["id"]) is None
        interrupted = (await second.client.get(f"/v1/predictions/{running['id']}")).json()
        assert interrupted["status"] == "failed"


async def test_a_model_sees_none_of_the_servers_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIER_ADMIN_TOKEN", "server-admin-token")
    monkeypatch.setenv("PIER_DATABASE", "postgresql://pier:hunter2@db/pier")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "aws-id")
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "another-secret")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    directory = model_dir(tmp_path, "environment_names.py")
    (directory / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
        'environment:\n  - "MODEL_SETTING=on"\n'
    )
    async with running_pier(tmp_path) as pier:
        await pier.add_model("t/env", directory)
        body = (await pier.create("t/env", {}, wait=30)).json()
    assert body["status"] == "succeeded", body
    names = set(body["output"])
    leaked = {n for n in names if n.startswith(("PIER_", "AWS_")) or n == "SOME_SERVICE_API_KEY"}
    assert leaked == set()
    # what a model does need is still there, and what its cog.yaml asks for
    assert {"PATH", "HOME", "OMP_NUM_THREADS", "MODEL_SETTING"} <= names
