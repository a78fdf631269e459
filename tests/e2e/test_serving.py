"""Concurrency and batching with the official `replicate` client against a real `pier serve`:
embedded, and as a cluster where a `pier worker` runs the models (PostgreSQL, Redis, S3)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import replicate
from replicate.prediction import Prediction

from tests.conftest import PREDICTORS
from tests.e2e.conftest import Worker, serve_for
from tests.e2e.test_official_client import add
from tests.queue.conftest import REDIS_URL, redis_url_or_skip

BATCH = "batch:\n  method: predict_batch\n  max_size: 8\n  max_wait_ms: 100\n"


def directory(tmp: Path, fixture: str, cog_extra: str = "", pier_yaml: str = "") -> Path:
    target = tmp / fixture
    target.mkdir()
    shutil.copy(PREDICTORS / f"{fixture}.py", target / "predict.py")
    (target / "cog.yaml").write_text(f'predict: "predict.py:Predictor"\n{cog_extra}')
    if pier_yaml:
        (target / "pier.yaml").write_text(pier_yaml)
    return target


def own_redis() -> str:
    """A Redis database of this module's own (it is emptied), apart from the queue tests'."""
    base, _, _ = REDIS_URL.rpartition("/")
    return redis_url_or_skip(f"{base}/13")


@pytest.fixture(scope="module", params=["embedded", "cluster"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[replicate.Client]:
    tmp = tmp_path_factory.mktemp("serving")
    server, cleanup = serve_for(request, tmp / "data", "pier_e2e_serving", own_redis)
    try:
        add(server, directory(tmp, "concurrent_async", "concurrency:\n  max: 4\n"), "test/together")
        add(server, directory(tmp, "batch_upper", "", BATCH), "test/shout")
        if request.param == "cluster":
            worker = Worker(server, tmp / "worker", "--slots", "1")
            cleanup.append(worker.stop)
        client = replicate.Client(api_token=server.token, base_url=server.url)
        yield client
        client._client.close()
    finally:
        for step in reversed(cleanup):
            step()
        server.stop()


def finished(client: replicate.Client, prediction: Prediction, timeout: float = 60) -> Prediction:
    deadline = time.monotonic() + timeout
    while prediction.status not in ("succeeded", "failed", "canceled"):
        assert time.monotonic() < deadline, f"{prediction.id} still {prediction.status}"
        time.sleep(0.05)
        prediction = client.predictions.get(prediction.id)
    return prediction


def when(stamp: str | None) -> datetime:
    assert stamp is not None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_four_at_once_each_with_its_own_logs_and_one_canceled(client: replicate.Client) -> None:
    # Boot the model first, so the timing below is of predictions only.
    warm = client.models.predictions.create(model="test/together", input={"sleep": 0})
    assert finished(client, warm).output == "hello a"
    names = ["w", "x", "y", "z"]
    started = time.monotonic()
    created = [
        client.models.predictions.create(model="test/together", input={"name": n, "sleep": 2.0})
        for n in names
    ]
    deadline = time.monotonic() + 30
    while True:
        states = [client.predictions.get(p.id).status for p in created]
        if states == ["processing"] * 4:
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.05)
    canceled = client.predictions.cancel(created[1].id)
    assert canceled.status in ("processing", "canceled")
    done = [finished(client, p) for p in created]
    elapsed = time.monotonic() - started
    assert elapsed < 5.5, f"four 2 s predictions took {elapsed:.1f} s"  # one after another: 6+
    assert done[1].status == "canceled" and done[1].output is None
    kept = [done[0], done[2], done[3]]
    assert [p.output for p in kept] == ["hello w", "hello y", "hello z"]
    assert max(when(p.started_at) for p in kept) < min(when(p.completed_at) for p in kept)
    for name, prediction in zip(["w", "y", "z"], kept, strict=True):
        assert prediction.logs == (
            f"{name}: start\n{name}: half way\n{name}: done ({prediction.id})\n"
        )


def test_waiting_predictions_run_as_one_batch(client: replicate.Client) -> None:
    first = client.models.predictions.create(
        model="test/shout", input={"text": "hold", "delay": 1.5}
    )
    deadline = time.monotonic() + 60
    while client.predictions.get(first.id).status != "processing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    texts = [f"t{i}" for i in range(6)]
    with ThreadPoolExecutor(len(texts)) as pool:
        created = list(
            pool.map(
                lambda t: client.models.predictions.create(model="test/shout", input={"text": t}),
                texts,
            )
        )
    failing = client.models.predictions.create(
        model="test/shout", input={"text": "no", "fail": True}
    )
    done = [finished(client, p) for p in [first, *created, failing]]
    assert done[0].output == "HOLD"
    batched = done[1:-1]
    assert [p.output for p in batched] == [t.upper() for t in texts]
    sizes = [p.metrics["batch_size"] for p in batched]
    assert max(sizes) > 1, sizes
    for prediction in batched:
        size = prediction.metrics["batch_size"]
        assert prediction.logs.startswith(f"batch of {size}: ")
        assert prediction.input["text"] in prediction.logs.split(": ", 1)[1].split()
    assert (done[-1].status, done[-1].error) == ("failed", "cannot shout 'no'")
