"""What the playground relies on in the API: where a prediction came from (and the examples kept
out of a person's list), tweak lineage, and a person's job going before queued examples."""

from __future__ import annotations

import asyncio
import time

from pier.bootstrap import _run_example
from tests.conftest import Pier


async def run_examples(pier: Pier, model: str, inputs: list[dict[str, object]]) -> None:
    """Queue examples the way the first start does."""
    svc = pier.services
    owner, name = model.split("/")
    row = await svc.store.get_model(owner, name, pier.info.account["id"])
    assert row is not None
    version = await svc.store.get_version(row["id"], row["latest_version_id"])
    assert version is not None
    for example in inputs:
        await _run_example(svc.store, svc.dispatcher, pier.info.account, row, version, example)


async def listed(pier: Pier, query: str = "") -> list[dict[str, object]]:
    response = await pier.client.get(f"/v1/predictions{query}")
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


async def test_examples_stay_out_of_your_predictions_unless_asked_for(pier: Pier) -> None:
    await pier.add_builtin("echo")
    await run_examples(pier, "pier/echo", [{"text": "example"}])
    mine = (await pier.create("pier/echo", {"text": "mine"}, wait=30)).json()
    web = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        json={"input": {"text": "web"}},
        headers={"Prefer": "wait=30", "X-Pier-Source": "web"},
    )
    assert mine["source"] == "api" and web.json()["source"] == "web"
    assert [p["id"] for p in await listed(pier)] == [web.json()["id"], mine["id"]]
    examples = await listed(pier, "?source=example")
    assert [p["source"] for p in examples] == ["example"]
    assert examples[0]["input"] == {"text": "example", "uppercase": False, "repeat": 1}
    assert len(await listed(pier, "?source=all")) == 3
    assert [p["source"] for p in await listed(pier, "?source=web")] == ["web"]
    assert len(await listed(pier, "?source=example,api")) == 2
    bad = await pier.client.get("/v1/predictions?source=robots")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "robots" in bad.json()["detail"] and "example" in bad.json()["detail"]


async def test_a_tweak_records_where_it_came_from(pier: Pier) -> None:
    await pier.add_builtin("echo")
    first = (await pier.create("pier/echo", {"text": "one"}, wait=30)).json()
    assert first["tweaked_from"] is None
    response = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        json={"input": {"text": "two"}, "tweaked_from": first["id"]},
        headers={"Prefer": "wait=30"},
    )
    assert response.status_code == 201
    tweak = response.json()
    assert tweak["tweaked_from"] == first["id"]
    again = (await pier.client.get(f"/v1/predictions/{tweak['id']}")).json()
    assert again["tweaked_from"] == first["id"]
    for wrong in ("nope", 12):
        refused = await pier.client.post(
            "/v1/models/pier/echo/predictions",
            json={"input": {"text": "x"}, "tweaked_from": wrong},
        )
        assert refused.status_code == 422
        assert refused.json()["invalid_fields"][0]["field"] == "tweaked_from"


async def test_your_first_prediction_does_not_wait_behind_the_examples(pier: Pier) -> None:
    await pier.add_builtin("slow")
    await run_examples(pier, "pier/slow", [{"steps": 8, "delay": 0.05}] * 3)
    examples = await listed(pier, "?source=example")
    assert len(examples) == 3
    mine = (await pier.create("pier/slow", {"steps": 1, "delay": 0.0})).json()
    queue = mine["queue"]
    if queue is not None and queue["phase"] == "queued":
        # At most the one example already taken runs before it; the queued ones do not count.
        assert queue["position"] == 1 and queue["ahead"] <= 1
    done = await pier.wait_done(mine["id"])
    assert done["status"] == "succeeded"
    ended = [await pier.wait_done(str(p["id"])) for p in examples]
    assert all(p["status"] == "succeeded" for p in ended)
    later = sorted(ended, key=lambda p: p["started_at"])[1:]  # the first may have started already
    assert all(p["started_at"] > done["started_at"] for p in later)


async def output_bytes(pier: Pier, prediction: dict[str, object]) -> list[bytes]:
    urls = prediction["output"]
    assert isinstance(urls, list) and urls
    return [(await pier.client.get(str(url))).content for url in urls]


async def test_the_model_reports_its_seed_and_the_words_it_ignored(pier: Pier) -> None:
    await pier.add_builtin("text-to-image")
    small = {"num_inference_steps": 3, "width": 64, "height": 64}
    response = await pier.create(
        "pier/text-to-image", {"prompt": "a dolphin stacking crates", **small}, wait=60
    )
    first = response.json()
    assert first["status"] == "succeeded", first
    seed = first["metrics"]["seed"]
    assert isinstance(seed, int) and first["input"].get("seed") is None
    assert first["metrics"]["ignored_words"] == ["dolphin", "stacking", "crates"]
    assert "Ignored words this model does not know: dolphin, stacking, crates" in first["logs"]
    # The input with the recorded seed filled in repeats the prediction exactly.
    again = await pier.client.post(
        "/v1/models/pier/text-to-image/predictions",
        json={"input": {**first["input"], "seed": seed}, "tweaked_from": first["id"]},
        headers={"Prefer": "wait=60"},
    )
    repeat = again.json()
    assert repeat["status"] == "succeeded" and repeat["metrics"]["seed"] == seed
    assert await output_bytes(pier, repeat) == await output_bytes(pier, first)
    known = await pier.create(
        "pier/text-to-image", {"prompt": "a red star on a black background", **small}, wait=60
    )
    assert "ignored_words" not in known.json()["metrics"]


async def test_a_model_says_how_long_it_takes_here_at_its_defaults(pier: Pier) -> None:
    await pier.add_builtin("slow")
    nothing = (await pier.client.get("/v1/models/pier/slow")).json()["run_time"]
    assert nothing["default_settings"] is None and nothing["heavy"] is False
    await run_examples(pier, "pier/slow", [{"steps": 2, "delay": 0.05}])
    example = (await listed(pier, "?source=example"))[0]
    await pier.wait_done(str(example["id"]))
    await pier.services.store.update_model(
        (await pier.services.store.get_model("pier", "slow"))["id"],  # type: ignore[index]
        default_example_id=example["id"],
    )
    measured = (await pier.client.get("/v1/models/pier/slow")).json()["run_time"]
    assert measured["default_settings"] is None
    assert measured["example"]["input"] == {"steps": 2, "delay": 0.05}
    # The defaults (20 steps of 0.25 s) ask for more than the example did.
    assert measured["heavier_than_example"] is True and measured["heavy"] is False
    other = (await pier.create("pier/slow", {"steps": 4}, wait=30)).json()
    assert other["status"] == "succeeded"
    at_defaults = (await pier.create("pier/slow", {}, wait=30)).json()
    assert at_defaults["status"] == "succeeded"
    timed = (await pier.client.get("/v1/models/pier/slow")).json()["run_time"]
    assert timed["default_settings"]["runs"] == 1  # the 4-step run is not at the defaults
    assert timed["default_settings"]["predict_time"] == round(
        at_defaults["metrics"]["predict_time"], 3
    )
    assert timed["heavy"] is False  # about 5 s


async def test_a_running_example_gives_way_to_your_prediction(pier: Pier) -> None:
    await pier.add_builtin("slow")
    await run_examples(pier, "pier/slow", [{"steps": 400, "delay": 0.05}])  # 20 s alone
    (example,) = await listed(pier, "?source=example")
    example_id = str(example["id"])
    deadline = time.monotonic() + 30
    while (await pier.client.get(f"/v1/predictions/{example_id}")).json()["status"] != "processing":
        assert time.monotonic() < deadline, "the example never started"
        await asyncio.sleep(0.02)
    response = await pier.create("pier/slow", {"steps": 1, "delay": 0.0}, wait=15)
    mine = response.json()
    # Mine ran at once: the example was canceled and put back in its lane, not waited for.
    assert mine["status"] == "succeeded", mine
    assert mine["metrics"]["queue_time"] < 5, mine["metrics"]
    again = (await pier.client.get(f"/v1/predictions/{example_id}")).json()
    assert again["status"] in ("starting", "processing"), again
    if again["status"] == "processing":  # running again, from the start, after mine
        assert again["started_at"] > mine["started_at"]
