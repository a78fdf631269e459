"""A paid prediction still waiting when the server stops keeps its hold, and is charged when it
runs after the restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.billing.conftest import (
    ENDED,
    customer,
    ledger_agrees,
    public_model,
    set_price,
    wait_status,
)
from tests.conftest import running_pier


async def test_a_waiting_paid_prediction_is_charged_after_a_restart(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, database=database) as pier:
        await public_model(pier, "acme/sleep", "sleep.py")
        await set_price(pier, model="acme/sleep", per_run_usd="0.25")
        bob = await customer(pier, "bob", credit="1")
        busy = await bob.client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"sleep": 30}}
        )
        await wait_status(bob.client, busy.json()["id"], {"processing"})
        waiting = await bob.client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"sleep": 0}}
        )
        assert waiting.status_code == 201
        assert (await bob.client.get("/v1/billing")).json()["held_usd"] == "0.50"
        token = bob.token
    async with running_pier(tmp_path, database=database) as pier:
        client = pier.client
        client.headers["Authorization"] = f"Bearer {token}"
        done = await wait_status(client, waiting.json()["id"], ENDED)
        assert done["status"] == "succeeded" and done["metrics"]["cost_usd"] == "0.25"
        deadline = time.monotonic() + 10
        while (billing := (await client.get("/v1/billing")).json())["held_usd"] != "0.00":
            assert time.monotonic() < deadline, billing
            await asyncio.sleep(0.05)
        # the one cut off by the stop cost nothing; the one that ran after the restart, its price
        assert billing["spent_this_month_usd"] == "0.25" and billing["balance_usd"] == "0.75"
        await ledger_agrees(pier)
