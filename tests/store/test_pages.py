"""Paging through lists on both databases: the cursor comparisons (a row value compared with
`<` or `>`) hand out every row exactly once, in one order, even when rows tie on their time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pier.dispatch.rows import new_prediction
from pier.store import Row, Store
from pier.util import new_id, utcnow


@pytest.fixture
async def store(tmp_path: Path, database: str) -> AsyncIterator[Store]:
    opened = await Store.open(database or f"sqlite:///{tmp_path / 'pier.db'}")
    yield opened
    await opened.close()


async def pages(fetch: Callable[[Any], Awaitable[list[Row]]], key: Callable[[Row], Any]) -> list:
    """Every row, two at a time, each page starting after the last row of the one before."""
    seen, cursor = [], None
    while True:
        page = await fetch(cursor)
        seen += page
        if len(page) < 2:
            return seen
        cursor = key(page[-1])


async def test_models_page_by_owner_and_name(store: Store) -> None:
    account = await store.create_account("someone")
    for owner, name in [("b", "x"), ("a", "y"), ("a", "x"), ("B", "a"), ("a", "x-2")]:
        await store.create_model(account["id"], owner, name, visibility="public")
    everything = await store.list_models(account["id"], None, 100)
    paged = await pages(
        lambda after: store.list_models(account["id"], after, 2),
        lambda row: (row["owner"], row["name"]),
    )
    assert [m["id"] for m in paged] == [m["id"] for m in everything]
    assert len(everything) == 5


async def test_predictions_and_files_page_by_time_then_id_even_when_times_tie(
    store: Store,
) -> None:
    account = await store.create_account("someone")
    model = await store.create_model(account["id"], "someone", "model")
    version = {"id": "v1", "openapi_schema": {}}
    now = utcnow()
    for _ in range(5):  # the same instant for all: only the id orders them
        row = new_prediction(account["id"], model, version, {})
        await store.insert_prediction({**row, "created_at": now})
        await store.insert_file(file_row(account["id"], now))

    everything = await store.list_predictions(account["id"], None, 100)
    paged = await pages(
        lambda before: store.list_predictions(account["id"], before, 2),
        lambda row: (row["created_at"], row["id"]),
    )
    assert [p["id"] for p in paged] == [p["id"] for p in everything]
    assert len(everything) == 5 and all(p["created_at"] == now for p in everything)

    files = await store.list_files(account["id"], None, 100)
    paged_files = await pages(
        lambda before: store.list_files(account["id"], before, 2),
        lambda row: (row["created_at"], row["id"]),
    )
    assert [f["id"] for f in paged_files] == [f["id"] for f in files] and len(files) == 5


def file_row(account_id: str, now: Any) -> Row:
    return {
        "id": new_id(),
        "account_id": account_id,
        "prediction_id": None,
        "name": "a.txt",
        "content_type": "text/plain",
        "size": 1,
        "sha256": "0" * 64,
        "md5": "0" * 32,
        "metadata": {},
        "path": "a.txt",
        "public_token": new_id(),
        "created_at": now,
        "expires_at": None,
    }
