"""Trainings through the API (in process, on SQLite and PostgreSQL): a training makes a new
version of its destination that predicts with the trained weights; lineage; cancel; a crash;
refusals (no destination, another account's, a model without train(), bad input); webhooks;
credit holds."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.isolation_world import headers_for, register_as
from tests.billing.conftest import customer, set_price
from tests.conftest import PREDICTORS, Pier

TERMINAL = ("succeeded", "failed", "canceled")


def trainable_dir(tmp: Path) -> Path:
    """A model with predict() and train() (tests/fixtures/predictors/train_prefix.py)."""
    target = tmp / "model-train-prefix"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(PREDICTORS / "train_prefix.py", target / "predict.py")
    (target / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
        'train: "predict.py:train"\n'
    )
    return target


async def add_trainable(pier: Pier, name: str = "test/greeter") -> dict[str, Any]:
    return await pier.add_model(name, trainable_dir(pier.tmp))


async def train(
    pier: Pier, version: str, destination: str, input: dict[str, Any], **extra: Any
) -> httpx.Response:
    url = f"/v1/models/test/greeter/versions/{version}/trainings"
    headers = extra.pop("headers", None)
    body = {"destination": destination, "input": input, **extra}
    return await pier.client.post(url, json=body, headers=headers)


async def wait_training(
    pier: Pier, training_id: str, timeout: float = 60.0, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = (
            await pier.client.get(f"/v1/trainings/{training_id}", headers=headers)
        ).json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"training still {body['status']}: {body}"
        await asyncio.sleep(0.05)


async def test_a_training_makes_a_new_version_that_predicts_with_its_weights(pier: Pier) -> None:
    base = await add_trainable(pier)
    made = await train(pier, base["id"], "test/greeter", {"prefix": "ahoy "})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["model"] == "test/greeter" and body["version"] == base["id"]
    assert body["destination"] == "test/greeter" and body["status"] in ("starting", "processing")
    assert body["urls"]["get"].endswith(f"/v1/trainings/{body['id']}")
    assert body["urls"]["cancel"].endswith(f"/v1/trainings/{body['id']}/cancel")
    done = await wait_training(pier, body["id"])
    assert done["status"] == "succeeded", done
    assert "step 1 of 1" in done["logs"]
    ref = done["output"]["version"]
    assert ref.startswith("test/greeter:") and len(ref.split(":")[1]) == 64
    new_id = ref.split(":")[1]
    weights = await pier.client.get(done["output"]["weights"])
    assert weights.text == "ahoy "
    # the destination's latest version is the new one, with its lineage
    model = (await pier.client.get("/v1/models/test/greeter")).json()
    assert model["latest_version"]["id"] == new_id
    version = (await pier.client.get(f"/v1/models/test/greeter/versions/{new_id}")).json()
    assert version["source"]["kind"] == "training"
    assert version["source"]["training_id"] == body["id"]
    assert version["source"]["base_version"] == base["id"]
    assert version["source"]["input"]["prefix"] == "ahoy "
    assert version["openapi_schema"] == base["openapi_schema"]
    pushed = (await pier.client.get(f"/v1/models/test/greeter/versions/{base['id']}")).json()
    assert pushed["source"] == {"kind": "push"}
    listed = (await pier.client.get("/v1/models/test/greeter/versions")).json()["results"]
    assert {v["id"] for v in listed} == {base["id"], new_id}
    # the new version says the trained prefix, the base does not
    new = await pier.client.post(
        "/v1/predictions",
        json={"version": new_id, "input": {"text": "world"}},
        headers={"Prefer": "wait=30"},
    )
    assert new.json()["output"] == "ahoy world", new.json()
    old = await pier.client.post(
        "/v1/predictions",
        json={"version": base["id"], "input": {"text": "world"}},
        headers={"Prefer": "wait=30"},
    )
    assert old.json()["output"] == "hello world"
    # trainings and predictions never list or return each other
    trainings = (await pier.client.get("/v1/trainings")).json()["results"]
    assert [t["id"] for t in trainings] == [body["id"]]
    predictions = (await pier.client.get("/v1/predictions")).json()["results"]
    assert body["id"] not in {p["id"] for p in predictions}
    assert (await pier.client.get(f"/v1/predictions/{body['id']}")).status_code == 404
    assert (await pier.client.get(f"/v1/trainings/{new.json()['id']}")).status_code == 404


async def test_the_same_result_is_the_same_version_and_a_chain_keeps_the_code(pier: Pier) -> None:
    base = await add_trainable(pier)
    first = await wait_training(
        pier, (await train(pier, base["id"], "test/greeter", {"prefix": "yo "})).json()["id"]
    )
    again = await wait_training(
        pier, (await train(pier, base["id"], "test/greeter", {"prefix": "yo "})).json()["id"]
    )
    assert again["status"] == "succeeded"
    assert again["output"]["version"] == first["output"]["version"]
    # a trained version trains again (its code is still the pushed version's)
    trained = first["output"]["version"].split(":")[1]
    url = f"/v1/models/test/greeter/versions/{trained}/trainings"
    made = await pier.client.post(
        url, json={"destination": "test/greeter", "input": {"prefix": "hi "}}
    )
    second = await wait_training(pier, made.json()["id"])
    assert second["status"] == "succeeded", second
    version = second["output"]["version"].split(":")[1]
    url = f"/v1/models/test/greeter/versions/{version}"
    source = (await pier.client.get(url)).json()["source"]
    assert source["base_version"] == trained and source["code_version"] == base["id"]


async def test_refusals(pier: Pier) -> None:
    base = await add_trainable(pier)
    missing = await train(pier, base["id"], "test/nowhere", {"prefix": "x"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "The specified training destination does not exist"
    assert missing.headers["content-type"].startswith("application/problem+json")
    for bad in ("nonsense", "a/b/c", "", None, 7):
        refused = await train(pier, base["id"], bad, {"prefix": "x"})  # type: ignore[arg-type]
        assert refused.status_code in (404, 422), (bad, refused.text)
    invalid = await train(pier, base["id"], "test/greeter", {"steps": 0})
    assert invalid.status_code == 422
    assert "prefix is required" in invalid.json()["detail"]
    assert "input.steps" in invalid.text
    other, headers = await headers_for(pier, "other")
    del other
    theirs = await train(pier, base["id"], "test/greeter", {"prefix": "x"}, headers=headers)
    assert theirs.status_code == 404  # a private model of someone else's does not exist
    echo = await pier.add_fixture("test/echo", "hello_world.py")
    untrainable = await pier.client.post(
        f"/v1/models/test/echo/versions/{echo['id']}/trainings",
        json={"destination": "test/echo", "input": {}},
    )
    assert untrainable.status_code == 422
    assert "cannot be trained" in untrainable.json()["detail"]
    unknown = await pier.client.post(
        f"/v1/models/test/greeter/versions/{'0' * 64}/trainings",
        json={"destination": "test/greeter", "input": {"prefix": "x"}},
    )
    assert unknown.status_code == 404
    assert (await pier.client.get("/v1/trainings/nothing")).status_code == 404
    assert (await pier.client.post("/v1/trainings/nothing/cancel")).status_code == 404
    assert (await pier.client.get("/v1/trainings")).json()["results"] == []


async def test_a_destination_of_another_account_is_not_found(pier: Pier) -> None:
    base = await add_trainable(pier)
    _, headers = await headers_for(pier, "other")
    await pier.services.store.create_model(
        (await pier.services.store.get_account_by_username("other"))["id"],  # type: ignore[index]
        "other",
        "target",
        visibility="public",
    )
    refused = await train(pier, base["id"], "other/target", {"prefix": "x"})
    assert refused.status_code == 404
    assert refused.json()["detail"] == "The specified training destination does not exist"
    del headers


async def test_cancel_mid_way_makes_no_version(pier: Pier) -> None:
    base = await add_trainable(pier)
    made = await train(
        pier, base["id"], "test/greeter", {"prefix": "x", "steps": 200, "delay": 0.05}
    )
    training_id = made.json()["id"]
    deadline = time.monotonic() + 60
    while (
        "step 2 of"
        not in (body := (await pier.client.get(f"/v1/trainings/{training_id}")).json())["logs"]
    ):
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)
    canceled = await pier.client.post(f"/v1/trainings/{training_id}/cancel")
    assert canceled.status_code == 200
    done = await wait_training(pier, training_id)
    assert done["status"] == "canceled" and done["output"] is None
    versions = (await pier.client.get("/v1/models/test/greeter/versions")).json()["results"]
    assert [v["id"] for v in versions] == [base["id"]]


async def test_a_crashed_training_fails_with_a_reason_and_makes_no_version(pier: Pier) -> None:
    base = await add_trainable(pier)
    made = await train(pier, base["id"], "test/greeter", {"prefix": "x", "steps": 4, "crash": True})
    done = await wait_training(pier, made.json()["id"])
    assert done["status"] == "failed"
    assert "model process" in done["error"] and "signal" in done["error"], done["error"]
    versions = (await pier.client.get("/v1/models/test/greeter/versions")).json()["results"]
    assert [v["id"] for v in versions] == [base["id"]]
    # the next training gets a fresh process and succeeds
    again = await train(pier, base["id"], "test/greeter", {"prefix": "ok "})
    assert (await wait_training(pier, again.json()["id"]))["status"] == "succeeded"


async def test_a_training_takes_a_credit_hold_and_is_charged_like_a_prediction(pier: Pier) -> None:
    store = pier.services.store
    accounts = {"poor": await customer(pier, "poor"), "rich": await customer(pier, "rich", "1")}
    for username in accounts:
        owner = await store.get_account_by_username(username)
        assert owner is not None
        await register_as(pier, owner, f"{username}/greeter", trainable_dir(pier.tmp / username))
        await set_price(pier, model=f"{username}/greeter", per_run_usd="0.25")

    async def start(who: str, **input: Any) -> httpx.Response:
        model = await store.get_model(who, "greeter")
        assert model is not None
        url = f"/v1/models/{who}/greeter/versions/{model['latest_version_id']}/trainings"
        body = {"destination": f"{who}/greeter", "input": {"prefix": "paid ", **input}}
        return await accounts[who].client.post(url, json=body)

    refused = await start("poor")
    assert refused.status_code == 402, refused.text
    assert (await accounts["poor"].client.get("/v1/trainings")).json()["results"] == []
    rich = accounts["rich"].client
    made = await start("rich", steps=40, delay=0.05)
    assert made.status_code == 201, made.text
    billing = (await rich.get("/v1/billing")).json()
    assert billing["held_usd"] == "0.25", billing
    done = await wait_training(pier, made.json()["id"], headers=dict(rich.headers))
    assert done["status"] == "succeeded" and done["metrics"]["cost_usd"] == "0.25"
    deadline = time.monotonic() + 10  # the hold is settled just after the final write
    while (billing := (await rich.get("/v1/billing")).json())["held_usd"] != "0.00":
        assert time.monotonic() < deadline, billing
        await asyncio.sleep(0.05)
    assert billing["balance_usd"] == "0.75", billing
