"""Models priced per second: the hold grows while a prediction runs, and a prediction whose
account can pay no more is stopped with a clear error, never overspending."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.billing.conftest import (
    ENDED,
    customer,
    ledger_agrees,
    ledger_columns_add_up,
    public_model,
    set_price,
    wait_status,
)
from tests.conftest import running_pier


async def test_a_running_prediction_is_stopped_when_credit_runs_out(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, database=database, billing_hold_seconds=1.0) as pier:
        await public_model(pier, "acme/sleep", "sleep.py")
        await set_price(pier, hardware="cpu", per_second_usd="0.001")
        bob = await customer(pier, "bob", credit="0.0035")
        created = await bob.client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"sleep": 30}}
        )
        assert created.status_code == 201, created.text
        started = time.monotonic()
        done = await wait_status(bob.client, created.json()["id"], ENDED)
        assert time.monotonic() - started < 15
        assert done["status"] == "failed"
        assert "can pay for no more running time" in done["error"]
        cost = done["metrics"]["cost_usd"]
        assert 0.002 <= float(cost) <= 0.0035, cost
        deadline = time.monotonic() + 10
        while (billing := (await bob.client.get("/v1/billing")).json())["held_usd"] != "0.00":
            assert time.monotonic() < deadline, billing
            await asyncio.sleep(0.05)
        assert billing["spent_this_month_usd"] == cost
        left = round(0.0035 - float(cost), 6)
        assert float(billing["balance_usd"]) == left >= 0
        # the last extension takes what is left, so at most a second's worth goes unused
        assert left <= 0.0011, billing
        totals = await ledger_agrees(pier)
        assert totals[bob.id]["spent"] == round(float(cost) * 1_000_000)
        kinds = [e["kind"] for e in (await bob.client.get("/v1/billing/ledger")).json()["results"]]
        assert kinds.count("hold") >= 2  # the first hold, then at least one extension
        await ledger_columns_add_up(bob.client)


async def test_a_per_second_run_costs_its_run_time(tmp_path: Path, database: str) -> None:
    async with running_pier(tmp_path, database=database) as pier:
        await public_model(pier, "acme/sleep", "sleep.py")
        await set_price(pier, hardware="cpu", per_second_usd="0.01")
        bob = await customer(pier, "bob", credit="10")
        estimate = (await bob.client.get("/v1/billing/estimate?version=acme/sleep")).json()
        assert estimate["basis"] == "per_second" and estimate["hold_usd"] == "0.60"
        created = await bob.client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"sleep": 0.5}}
        )
        done = await wait_status(bob.client, created.json()["id"], ENDED)
        assert done["status"] == "succeeded"
        predict_time = done["metrics"]["predict_time"]
        expected = -(-round(predict_time * 1e6) * 10_000 // 1_000_000)  # ceil, in micros
        assert abs(float(done["metrics"]["cost_usd"]) * 1e6 - expected) <= 1
        assert 0.005 <= float(done["metrics"]["cost_usd"]) < 0.02
