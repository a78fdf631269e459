"""Processes that start together against one database (API processes, workers, `pier models
add`) make the same rows at the same time: the admin account, its token, a model and its
version. The second to arrive gets the row the first made, never a unique-key error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pier.store import Store
from pier.util import utcnow


@pytest.fixture
async def two_stores(tmp_path: Path, database: str) -> AsyncIterator[tuple[Store, Store]]:
    url = database or f"sqlite:///{tmp_path / 'pier.db'}"
    first = await Store.open(url)
    second = await Store.open(url)  # its own connections, as another process has
    yield first, second
    await first.close()
    await second.close()


async def test_the_same_rows_made_at_once_are_made_once(two_stores: tuple[Store, Store]) -> None:
    first, second = two_stores
    accounts = await asyncio.gather(
        first.create_account("admin", "Admin"), second.create_account("admin", "Admin")
    )
    assert accounts[0]["id"] == accounts[1]["id"]
    account_id = accounts[0]["id"]

    await asyncio.gather(
        first.add_token(account_id, "same-token", "a"),
        second.add_token(account_id, "same-token", "b"),
    )
    found = await first.account_for_token("same-token")
    assert found is not None and found["id"] == account_id

    models = await asyncio.gather(
        first.create_model(account_id, "pier", "echo"),
        second.create_model(account_id, "pier", "echo"),
    )
    assert models[0]["id"] == models[1]["id"]
    version = {
        "model_id": models[0]["id"],
        "id": "a" * 64,
        "path": "versions/a",
        "predict_ref": "predict.py:Predictor",
        "train_ref": None,
        "environment": {},
        "openapi_schema": {},
        "cog_version": "0.16",
        "created_at": utcnow(),
    }
    await asyncio.gather(first.add_version(dict(version)), second.add_version(dict(version)))
    assert [v["id"] for v in await first.list_versions(models[0]["id"])] == ["a" * 64]
    model = await second.get_model_by_id(models[0]["id"])
    assert model is not None and model["latest_version_id"] == "a" * 64
