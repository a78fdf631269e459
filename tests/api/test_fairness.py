"""Fair use of creates through the API: Idempotency-Key (a retry returns the first prediction,
made and charged once, even from 20 requests at once), the cap on an account's waiting
predictions and the create rate (429 with Retry-After), and the admin's priority routes."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pier.util import utcnow
from tests.billing.conftest import customer, public_model, set_price
from tests.conftest import Pier, query_database, running_pier


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create(
    pier: Pier, model: str, input: dict[str, Any], headers: dict[str, str], wait: int = 0
) -> httpx.Response:
    """A create by model with these headers (and `Prefer: wait` when `wait`)."""
    if wait:
        headers = {**headers, "Prefer": f"wait={wait}"}
    return await pier.client.post(
        f"/v1/models/{model}/predictions", json={"input": input}, headers=headers
    )


async def someone(pier: Pier, username: str) -> str:
    """A new account's API token."""
    account = await pier.services.store.create_account(username)
    return await pier.services.store.create_token(account["id"], "test")


async def own_predictions(pier: Pier, headers: dict[str, str] | None = None) -> list[str]:
    listed = await pier.client.get("/v1/predictions", headers=headers or {})
    return [p["id"] for p in listed.json()["results"]]


async def occupy(pier: Pier, model: str) -> str:
    """A prediction that keeps the only model process busy; returns once it runs."""
    busy = (await pier.create(model, {"sleep": 60})).json()["id"]
    deadline = time.monotonic() + 60
    while (await pier.client.get(f"/v1/predictions/{busy}")).json()["status"] != "processing":
        assert time.monotonic() < deadline, "the model never started"
        await asyncio.sleep(0.05)
    return str(busy)


async def test_a_retried_create_returns_the_first_prediction_once(pier: Pier) -> None:
    await pier.add_builtin("echo")
    key = {"Idempotency-Key": "retry-1"}
    first = await create(pier, "pier/echo", {"text": "hi"}, key, wait=30)
    assert first.status_code == 201 and first.json()["status"] == "succeeded"
    again = await create(pier, "pier/echo", {"text": "hi"}, key)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    shown = (await pier.client.get(f"/v1/predictions/{first.json()['id']}")).json()
    assert again.json() == shown
    assert await own_predictions(pier) == [shown["id"]]
    # The same key from another account is that account's own key.
    theirs = await someone(pier, "other")
    model = await pier.services.store.get_model("pier", "echo")
    assert model is not None
    await pier.services.store.update_model(model["id"], visibility="public")
    other = await create(pier, "pier/echo", {"text": "hi"}, {**key, **bearer(theirs)})
    assert other.status_code == 201 and other.json()["id"] != shown["id"]


async def test_a_key_used_for_another_request_is_refused(pier: Pier) -> None:
    version = await pier.add_builtin("echo")
    key = {"Idempotency-Key": "one-key"}
    first = await create(pier, "pier/echo", {"text": "a"}, key)
    assert first.status_code == 201
    for response in (
        await create(pier, "pier/echo", {"text": "b"}, key),
        await pier.client.post(
            "/v1/predictions",
            json={"version": version["id"], "input": {"text": "a"}},
            headers=key,
        ),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "already used for a different request" in response.json()["detail"]
    assert await own_predictions(pier) == [first.json()["id"]]
    # Key order and spacing do not make a different request.
    same = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        content=b'{ "input" : {"text": "a"} }',
        headers={**key, "Content-Type": "application/json"},
    )
    assert same.status_code == 201 and same.json()["id"] == first.json()["id"]


async def test_twenty_concurrent_duplicates_make_one_prediction(pier: Pier) -> None:
    await pier.add_builtin("echo")
    key = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(create(pier, "pier/echo", {"text": "same"}, key) for _ in range(20))
    )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert await own_predictions(pier) == list(ids)
    assert (await pier.wait_done(ids.pop()))["status"] == "succeeded"


async def test_a_failed_create_leaves_its_key_free(pier: Pier) -> None:
    await pier.add_builtin("echo")
    key = {"Idempotency-Key": "fix-and-retry"}
    bad = await pier.client.post(
        "/v1/models/pier/echo/predictions", json={"input": {"repeat": "x"}}, headers=key
    )
    assert bad.status_code == 422
    # The same request again is checked again, not answered from the key.
    again = await pier.client.post(
        "/v1/models/pier/echo/predictions", json={"input": {"repeat": "x"}}, headers=key
    )
    assert again.status_code == 422 and "repeat" in again.json()["detail"]
    assert await own_predictions(pier) == []


@pytest.mark.parametrize("value", [b"", b"x" * 256, b"tab\there", "é".encode()])
async def test_a_malformed_key_is_refused(pier: Pier, value: bytes) -> None:
    await pier.add_builtin("echo")
    response = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        json={"input": {"text": "a"}},
        headers={"Idempotency-Key": value},
    )
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.json()["detail"]
    longest = await create(pier, "pier/echo", {"text": "a"}, {"Idempotency-Key": "k" * 255})
    assert longest.status_code == 201


def assert_too_many(response: httpx.Response, words: str) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert words in body["detail"], body
    seconds = int(response.headers["retry-after"])
    assert seconds >= 1 and body["retry_after"] == seconds
    return seconds


async def test_an_account_past_its_cap_of_waiting_predictions_gets_429(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, database=database, max_queued_per_account=2) as pier:
        await pier.add_fixture("t/sleep", "sleep.py")
        busy = await occupy(pier, "t/sleep")
        accepted = []
        for _ in range(4):
            response = await pier.create("t/sleep", {"sleep": 0})
            if response.status_code != 201:
                break
            accepted.append(response.json()["id"])
        assert len(accepted) == 2
        assert_too_many(response, "2 predictions waiting to start")
        # Another account is not held back by this one's queue.
        model = await pier.services.store.get_model("t", "sleep")
        assert model is not None
        await pier.services.store.update_model(model["id"], visibility="public")
        theirs = bearer(await someone(pier, "other"))
        assert (await create(pier, "t/sleep", {"sleep": 0}, theirs)).status_code == 201
        # Canceling frees places at once in the process that accepted them.
        for prediction in accepted:
            await pier.client.post(f"/v1/predictions/{prediction}/cancel")
        deadline = time.monotonic() + 10
        while (await pier.create("t/sleep", {"sleep": 0})).status_code != 201:
            assert time.monotonic() < deadline, "the canceled predictions still count"
            await asyncio.sleep(0.2)
        await pier.client.post(f"/v1/predictions/{busy}/cancel")


async def test_creates_past_the_rate_get_429_with_retry_after(tmp_path: Path) -> None:
    async with running_pier(tmp_path, create_rate_per_minute=3) as pier:
        await pier.add_builtin("echo")
        for _ in range(3):
            assert (await pier.create("pier/echo", {"text": "a"})).status_code == 201
        refused = await pier.create("pier/echo", {"text": "a"})
        seconds = assert_too_many(refused, "may create 3 a minute")
        assert seconds <= 20  # one create comes back every 20 s
        assert len(await own_predictions(pier)) == 3
        # Each account has its own allowance.
        model = await pier.services.store.get_model("pier", "echo")
        assert model is not None
        await pier.services.store.update_model(model["id"], visibility="public")
        theirs = bearer(await someone(pier, "other"))
        assert (await create(pier, "pier/echo", {"text": "a"}, theirs)).status_code == 201


async def test_only_an_admin_sets_priorities(pier: Pier) -> None:
    theirs = bearer(await someone(pier, "other"))
    path = "/v1/admin/accounts/other/priority"
    refused = await pier.client.put(path, json={"priority": "high"}, headers=theirs)
    assert refused.status_code == 404
    bad = await pier.client.put(path, json={"priority": "urgent"})
    assert bad.status_code == 422 and "high, normal, low" in bad.json()["detail"]
    missing = await pier.client.put("/v1/admin/accounts/nobody/priority", json={"priority": "low"})
    assert missing.status_code == 404
    done = await pier.client.put(path, json={"priority": "low"})
    assert done.json() == {"username": "other", "priority": "low", "lane": 2}
    token = await pier.services.store.account_for_token(theirs["Authorization"][7:])
    assert token is not None
    tokens_path = f"/v1/admin/tokens/{token['token_id']}/priority"
    own = await pier.client.put(tokens_path, json={"priority": "high"})
    assert own.json()["priority"] == "high" and own.json()["lane"] == 0
    back = await pier.client.put(tokens_path, json={"priority": None})
    assert back.json()["priority"] is None and back.json()["lane"] == 2
    assert (await pier.client.put(tokens_path, json={})).status_code == 422
    assert (
        await pier.client.put("/v1/admin/tokens/none/priority", json={"priority": "low"})
    ).status_code == 404


async def test_retries_of_a_paid_create_are_charged_once(pier: Pier) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    await set_price(pier, model="acme/hello", per_run_usd="0.01")
    bob = await customer(pier, "bob")
    key = {"Idempotency-Key": "pay-once"}

    async def attempt() -> httpx.Response:
        return await bob.client.post(
            "/v1/models/acme/hello/predictions", json={"input": {}}, headers=key
        )

    refused = await attempt()
    assert refused.status_code == 402, refused.text  # no credit yet: the key stays free
    credit = {"amount_usd": "0.05"}
    assert (await pier.client.post("/v1/admin/accounts/bob/credit", json=credit)).is_success
    responses = await asyncio.gather(*(attempt() for _ in range(20)))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    prediction = ids.pop()
    deadline = time.monotonic() + 30
    while True:  # until the run ended and its charge settled
        ledger = (await bob.client.get("/v1/billing/ledger")).json()["results"]
        kinds = sorted(e["kind"] for e in ledger)
        if "charge" in kinds:
            break
        assert time.monotonic() < deadline, kinds
        await asyncio.sleep(0.05)
    assert kinds == ["charge", "hold", "topup"]
    assert (await bob.client.get(f"/v1/predictions/{prediction}")).json()["status"] == "succeeded"
    assert (await attempt()).json()["id"] == prediction
    await bob.client.aclose()


async def test_a_key_is_kept_24_hours(pier: Pier) -> None:
    await pier.add_builtin("echo")
    key = {"Idempotency-Key": "daily"}
    first = (await create(pier, "pier/echo", {"text": "a"}, key)).json()["id"]
    day_ago = utcnow() - timedelta(hours=24, seconds=1)
    query_database(
        pier.services.settings, "UPDATE idempotency_keys SET created_at = :at", at=day_ago
    )
    # Past its lifetime the key is free: a new request with it makes a new prediction.
    second = await create(pier, "pier/echo", {"text": "b"}, key)
    assert second.status_code == 201 and second.json()["id"] != first
    assert (await create(pier, "pier/echo", {"text": "b"}, key)).json()["id"] == second.json()["id"]
    assert await pier.services.store.prune_idempotency_keys(utcnow()) == 1
