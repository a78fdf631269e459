"""Prepaid credit: holds at create, charges at the end, 402 when it cannot pay, never overspent."""

from __future__ import annotations

import asyncio

import pytest

from tests.billing.conftest import (
    ENDED,
    customer,
    ledger_agrees,
    ledger_columns_add_up,
    public_model,
    set_price,
    settled,
    wait_status,
)
from tests.conftest import Pier


async def test_per_run_price_charges_each_run_and_refuses_what_cannot_be_paid(pier: Pier) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    await set_price(pier, model="acme/hello", per_run_usd="0.01")
    bob = await customer(pier, "bob", credit="0.03")
    ids = []
    for _ in range(3):
        created = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    for prediction_id in ids:
        done = await wait_status(bob.client, prediction_id, ENDED)
        assert done["status"] == "succeeded"
        assert done["metrics"]["cost_usd"] == "0.01"
        assert done["metrics"]["hardware"] == "cpu"
    refused = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["available_usd"], problem["needed_usd"]) == ("0.00", "0.01")
    assert "0.01 USD" in problem["detail"]
    listed = (await bob.client.get("/v1/predictions")).json()["results"]
    assert len(listed) == 3  # the refused one was not created

    billing = await settled(bob.client)
    assert billing["balance_usd"] == "0.00"
    assert billing["spent_this_month_usd"] == "0.03"
    assert billing["monthly_limit_usd"] is None
    totals = await ledger_agrees(pier)
    assert totals[bob.id] == {"available": 0, "held": 0, "spent": 30_000}
    kinds = [e["kind"] for e in (await bob.client.get("/v1/billing/ledger")).json()["results"]]
    assert sorted(kinds) == ["charge"] * 3 + ["hold"] * 3 + ["topup"]
    await ledger_columns_add_up(bob.client)


async def test_free_models_need_no_credit(pier: Pier) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    bob = await customer(pier, "bob")
    created = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
    assert created.status_code == 201
    done = await wait_status(bob.client, created.json()["id"], ENDED)
    assert done["metrics"]["cost_usd"] == "0.00"


async def test_failed_runs_of_a_per_run_model_are_not_charged(pier: Pier) -> None:
    await public_model(pier, "acme/broken", "exc_in_predict.py")
    await set_price(pier, model="acme/broken", per_run_usd="0.50")
    bob = await customer(pier, "bob", credit="1")
    created = await bob.client.post("/v1/models/acme/broken/predictions", json={"input": {}})
    done = await wait_status(bob.client, created.json()["id"], ENDED)
    assert done["status"] == "failed" and done["metrics"]["cost_usd"] == "0.00"
    billing = await settled(bob.client)
    assert billing["balance_usd"] == "1.00"
    await ledger_agrees(pier)


async def test_two_hundred_racing_creates_against_credit_for_five(pier: Pier) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    await set_price(pier, model="acme/hello", per_run_usd="0.2")
    bob = await customer(pier, "bob", credit="1")

    async def create() -> int:
        response = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
        return response.status_code

    codes = await asyncio.gather(*(create() for _ in range(200)))
    assert codes.count(201) == 5 and codes.count(402) == 195, sorted(set(codes))
    listed = (await bob.client.get("/v1/predictions")).json()["results"]
    assert len(listed) == 5
    for item in listed:
        assert (await wait_status(bob.client, item["id"], ENDED))["status"] == "succeeded"
    billing = await settled(bob.client)
    assert billing["balance_usd"] == "0.00" and billing["spent_this_month_usd"] == "1.00"
    totals = await ledger_agrees(pier)
    assert totals[bob.id] == {"available": 0, "held": 0, "spent": 1_000_000}


async def test_monthly_limit_stops_creates_before_the_balance_does(pier: Pier) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    await set_price(pier, model="acme/hello", per_run_usd="0.01")
    bob = await customer(pier, "bob", credit="5")
    patched = await bob.client.patch("/v1/billing", json={"monthly_limit_usd": "0.02"})
    assert patched.status_code == 200 and patched.json()["monthly_limit_usd"] == "0.02"
    for _ in range(2):
        created = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
        assert created.status_code == 201
        await wait_status(bob.client, created.json()["id"], ENDED)
    refused = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
    assert refused.status_code == 402
    assert "monthly spend limit" in refused.json()["detail"]
    await bob.client.patch("/v1/billing", json={"monthly_limit_usd": None})
    again = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
    assert again.status_code == 201


async def test_a_token_limit_caps_that_token_only(pier: Pier) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    await set_price(pier, model="acme/hello", per_run_usd="0.01")
    bob = await customer(pier, "bob", credit="5")
    store = pier.services.store
    row = await store.account_for_token(bob.token)
    assert row is not None
    limited = await bob.client.patch(
        f"/v1/billing/tokens/{row['token_id']}", json={"monthly_limit_usd": "0.01"}
    )
    assert limited.status_code == 200 and limited.json()["monthly_limit_usd"] == "0.01"
    first = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
    assert first.status_code == 201
    second = await bob.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
    assert second.status_code == 402 and "token" in second.json()["detail"]
    billing = (await bob.client.get("/v1/billing")).json()
    assert billing["balance_usd"] == "5.00"  # the refusal took nothing
    other = await customer(pier, "carol")
    assert (await other.client.get(f"/v1/billing/tokens/{row['token_id']}")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"monthly_limit_usd": "-1"},
        {"monthly_limit_usd": "abc"},
        {"monthly_limit_usd": "0.0000001"},
        {"monthly_limit_usd": True},
        {"low_balance_alert_usd": [1]},
        {"alert_webhook": "ftp://example.com"},
        {"surprise": 1},
    ],
)
async def test_bad_billing_settings_are_422(pier: Pier, body: dict) -> None:
    response = await pier.client.patch("/v1/billing", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def test_admin_routes_are_hidden_from_others_and_check_input(pier: Pier) -> None:
    bob = await customer(pier, "bob")
    assert (await bob.client.get("/v1/admin/prices")).status_code == 404
    assert (
        await bob.client.post("/v1/admin/accounts/bob/credit", json={"amount_usd": "5"})
    ).status_code == 404
    bad = await pier.client.post("/v1/admin/accounts/bob/credit", json={"amount_usd": "-5"})
    assert bad.status_code == 422
    zero = await pier.client.post("/v1/admin/accounts/bob/credit", json={"amount_usd": 0})
    assert zero.status_code == 422
    nobody = await pier.client.post("/v1/admin/accounts/nobody/credit", json={"amount_usd": 1})
    assert nobody.status_code == 404
    both = await pier.client.put("/v1/admin/prices", json={"hardware": "cpu", "per_run_usd": 1})
    assert both.status_code == 422
    await set_price(pier, hardware="cpu", per_second_usd="0.0001")
    listed = (await pier.client.get("/v1/admin/prices")).json()["results"]
    assert listed[0]["hardware"] == "cpu" and listed[0]["per_second_usd"] == "0.0001"
