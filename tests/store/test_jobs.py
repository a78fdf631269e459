"""The guarded writes that end a job, on both databases: each says truly whether it applied, with
the `completed` webhook written alongside it, and a second one neither applies nor adds a
webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pier.dispatch.rows import new_prediction
from pier.store import Row, Store
from pier.util import utcnow


@pytest.fixture
async def store(tmp_path: Path, database: str) -> AsyncIterator[Store]:
    opened = await Store.open(database or f"sqlite:///{tmp_path / 'pier.db'}")
    yield opened
    await opened.close()


async def waiting_job(store: Store) -> Row:
    account = await store.create_account("someone")
    model = await store.create_model(account["id"], "someone", "model")
    version = {"id": "v1", "openapi_schema": {}}
    row = new_prediction(account["id"], model, version, {"text": "hi"}, webhook="http://h/")
    await store.insert_prediction(row)
    return row


def webhook(row: Row, message_id: str) -> Row:
    now = utcnow()
    return {
        "id": message_id,
        "prediction_id": row["id"],
        "account_id": row["account_id"],
        "url": row["webhook"],
        "body": "{}",
        "attempts": 0,
        "next_attempt_at": now,
        "delivered_at": None,
        "last_error": None,
        "created_at": now,
    }


def ended(status: str, **fields: Any) -> dict[str, Any]:
    return {"status": status, "completed_at": utcnow(), **fields}


async def test_the_holder_ends_its_job_once(store: Store) -> None:
    row = await waiting_job(store)
    now = utcnow()
    assert await store.take_lease(row["id"], "a", now + timedelta(seconds=5), now)
    assert await store.finish_job(
        row["id"], "a", ended("succeeded", output="x"), [], webhook(row, "msg_1")
    )
    assert not await store.finish_job(
        row["id"], "a", ended("failed", error="late"), [], webhook(row, "msg_2")
    )
    stored = await store.get_prediction(row["id"])
    assert stored is not None and (stored["status"], stored["output"]) == ("succeeded", "x")
    assert await store.pending_webhook_deliveries(row["id"]) == ["msg_1"]


async def test_a_job_another_process_holds_is_not_ended_here(store: Store) -> None:
    row = await waiting_job(store)
    now = utcnow()
    assert await store.take_lease(row["id"], "a", now + timedelta(seconds=5), now)
    assert not await store.finish_job(
        row["id"], "b", ended("succeeded", output="y"), [], webhook(row, "msg_1")
    )
    assert await store.pending_webhook_deliveries(row["id"]) == []


async def test_a_running_job_whose_lease_ran_out_fails_once(store: Store) -> None:
    row = await waiting_job(store)
    now = utcnow()
    await store.update_prediction(
        row["id"], status="processing", worker_id="gone", lease_expires_at=now
    )
    later = now + timedelta(seconds=1)
    failed = ended("failed", error="lost")
    assert await store.fail_expired(row["id"], later, failed, webhook(row, "msg_1"))
    assert not await store.fail_expired(row["id"], later, ended("failed"), webhook(row, "msg_2"))
    assert not await store.finish_job(row["id"], "gone", ended("succeeded"), [], None)
    assert await store.pending_webhook_deliveries(row["id"]) == ["msg_1"]


async def test_a_waiting_job_is_canceled_once(store: Store) -> None:
    row = await waiting_job(store)
    canceled = ended("canceled")
    assert await store.cancel_waiting(row["id"], canceled, webhook(row, "msg_1"))
    assert not await store.cancel_waiting(row["id"], ended("canceled"), webhook(row, "msg_2"))
    assert await store.pending_webhook_deliveries(row["id"]) == ["msg_1"]
