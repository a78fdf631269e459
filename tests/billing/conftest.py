"""Accounts with credit on a running Pier, and the ledger read behind the app's back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from pier.billing.ledger import recompute
from pier.registry import register
from pier.store.tables import balances
from tests.conftest import Pier, model_dir


@dataclass
class Customer:
    username: str
    id: str
    token: str
    client: httpx.AsyncClient


async def customer(pier: Pier, username: str, credit: str | None = None) -> Customer:
    """A new account with a token (and credit from the admin), and a client that uses it."""
    store = pier.services.store
    account = await store.create_account(username)
    token = await store.create_token(account["id"], "tests")
    client = httpx.AsyncClient(
        transport=pier.client._transport,  # the same app
        base_url=str(pier.client.base_url),
        headers={"Authorization": f"Bearer {token}"},
    )
    if credit is not None:
        response = await pier.client.post(
            f"/v1/admin/accounts/{username}/credit", json={"amount_usd": credit}
        )
        assert response.status_code == 200, response.text
    return Customer(username, account["id"], token, client)


async def public_model(pier: Pier, name: str, fixture: str) -> None:
    """A model of the admin's that every account may run (and pays for)."""
    svc = pier.services
    await register(
        svc.store,
        svc.files.blobs,
        svc.settings.data_dir,
        pier.info.account,
        model_dir(pier.tmp, fixture),
        name,
        visibility="public",
    )


async def set_price(pier: Pier, **body: Any) -> None:
    response = await pier.client.put("/v1/admin/prices", json=body)
    assert response.status_code == 200, response.text


async def ledger_agrees(pier: Pier) -> dict[str, dict[str, int]]:
    """Every balances row equals what the ledger adds up to; returns the recomputed totals."""

    def read(conn: sa.Connection) -> tuple[dict[str, dict[str, int]], list[Any]]:
        return recompute(conn), list(conn.execute(sa.select(balances)))

    totals, rows = await pier.services.store.db.read(read)
    for row in rows:
        mine = totals.get(row.account_id, {"available": 0, "held": 0, "spent": 0})
        stored = {
            "available": row.available_micros,
            "held": row.held_micros,
            "spent": row.spent_micros,
        }
        assert stored == mine, f"balances of {row.account_id} {stored} != ledger {mine}"
    return totals


async def ledger_columns_add_up(client: httpx.AsyncClient) -> None:
    """The ledger's amount, available and held columns sum to the balance, what is available
    and what is held, in the API and in the CSV."""
    from decimal import Decimal

    billing = (await client.get("/v1/billing")).json()
    entries = (await client.get("/v1/billing/ledger")).json()["results"]
    wanted = {"amount_usd": "balance_usd", "available_usd": "available_usd", "held_usd": "held_usd"}
    for column, figure in wanted.items():
        total = sum((Decimal(e[column]) for e in entries), Decimal(0))
        assert total == Decimal(billing[figure]), (column, total, billing)
    rows = (await client.get("/v1/billing/ledger.csv")).text.splitlines()
    header = rows[0].split(",")
    index = header.index("amount_usd")
    csv_total = sum((Decimal(r.split(",")[index]) for r in rows[1:]), Decimal(0))
    assert csv_total == Decimal(billing["balance_usd"])


async def wait_status(
    client: httpx.AsyncClient, prediction_id: str, wanted: set[str], timeout: float = 30.0
) -> dict[str, Any]:
    """The prediction once its status is one of `wanted` (polled, with a deadline)."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = (await client.get(f"/v1/predictions/{prediction_id}")).json()
        if body["status"] in wanted:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


ENDED = {"succeeded", "failed", "canceled"}


async def settled(client: httpx.AsyncClient) -> dict[str, Any]:
    """The account's billing once no hold is left (a prediction's end is visible a moment
    before its hold is settled)."""
    import asyncio
    import time

    deadline = time.monotonic() + 10
    while (billing := (await client.get("/v1/billing")).json())["held_usd"] != "0.00":
        assert time.monotonic() < deadline, billing
        await asyncio.sleep(0.02)
    return dict(billing)
