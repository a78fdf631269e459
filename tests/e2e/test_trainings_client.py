"""Trainings with the official `replicate` Python client, unmodified, against a real `pier
serve`: embedded, and as a cluster (PostgreSQL, Redis, S3 and a `pier worker` that runs the
trainings and fetches the trained weights from the file store)."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import replicate
from replicate.exceptions import ReplicateError

from tests.api.test_trainings import trainable_dir
from tests.e2e.conftest import Worker, serve_for
from tests.e2e.test_official_client import add
from tests.queue.conftest import redis_url_or_skip

TERMINAL = ("succeeded", "failed", "canceled")


class Receiver:
    """Collects the webhooks POSTed to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                length = int(self.headers["content-length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", params=["embedded", "cluster"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[replicate.Client]:
    tmp = tmp_path_factory.mktemp("trainings")
    os.environ["PIER_ALLOW_PRIVATE_WEBHOOKS"] = "1"  # the receiver listens on 127.0.0.1
    server, cleanup = serve_for(request, tmp / "data", "pier_e2e_train", redis_url_or_skip)
    cleanup.append(lambda: os.environ.pop("PIER_ALLOW_PRIVATE_WEBHOOKS", None))
    try:
        add(server, trainable_dir(tmp), "test/greeter")
        add(server, trainable_dir(tmp), "test/greeter-tuned")
        if request.param == "cluster":
            worker = Worker(server, tmp / "worker", "--slots", "2")
            cleanup.append(worker.stop)
        client = replicate.Client(api_token=server.token, base_url=server.url)
        yield client
        client._client.close()
    finally:
        for step in reversed(cleanup):
            step()
        server.stop()


def wait(client: replicate.Client, training_id: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while (training := client.trainings.get(training_id)).status not in TERMINAL:
        assert time.monotonic() < deadline, (training.status, training.logs, training.error)
        time.sleep(0.1)
    return training


def base_version(client: replicate.Client) -> str:
    version = client.models.get("test/greeter").latest_version
    assert version is not None
    return str(version.id)


def test_train_then_predict_with_the_new_version(client: replicate.Client, tmp_path: Path) -> None:
    base = base_version(client)
    receiver = Receiver()
    try:
        training = client.trainings.create(
            version=f"test/greeter:{base}",
            destination="test/greeter-tuned",
            input={"prefix": "ahoy "},
            webhook=receiver.url,
            webhook_events_filter=["start", "completed"],
        )
        assert training.status in ("starting", "processing")
        assert training.model == "test/greeter" and training.version == base
        done = wait(client, training.id)
        assert done.status == "succeeded", done.error
        assert done.destination == "test/greeter-tuned"
        new_id = done.output["version"].split(":")[1]
        assert done.output["version"] == f"test/greeter-tuned:{new_id}"
        assert done.output["weights"].startswith("http")
        deadline = time.monotonic() + 30
        # `start` goes out from the process running it, `completed` from any: either may
        # arrive first
        while {hook["status"] for hook in receiver.received} != {"processing", "succeeded"}:
            assert time.monotonic() < deadline, receiver.received
            time.sleep(0.1)
    finally:
        receiver.close()
    hooks = receiver.received
    assert all(hook["id"] == training.id for hook in hooks)
    completed = next(hook for hook in hooks if hook["status"] == "succeeded")
    assert completed["destination"] == "test/greeter-tuned"
    assert completed["output"]["version"] == done.output["version"]
    # the new version says the trained prefix; the base version does not
    assert client.run(done.output["version"], input={"text": "world"}) == "ahoy world"
    assert client.run(f"test/greeter:{base}", input={"text": "world"}) == "hello world"
    assert client.run("test/greeter-tuned", input={"text": "there"}) == "ahoy there"
    tuned = client.models.get("test/greeter-tuned")
    assert tuned.latest_version is not None and tuned.latest_version.id == new_id
    listed = client.trainings.list()
    assert training.id in {t.id for t in listed.results}
    assert training.id not in {p.id for p in client.predictions.list().results}


def test_cancel_a_training_mid_way(client: replicate.Client) -> None:
    base = base_version(client)
    training = client.trainings.create(
        version=f"test/greeter:{base}",
        destination="test/greeter",
        input={"prefix": "never ", "steps": 400, "delay": 0.05},
    )
    deadline = time.monotonic() + 60
    while "step 2 of" not in (client.trainings.get(training.id).logs or ""):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    canceled = client.trainings.cancel(training.id)
    assert canceled.status == "canceled"
    done = wait(client, training.id)
    assert done.status == "canceled" and done.output is None
    versions = client.models.get("test/greeter").versions.list()
    assert [v.id for v in versions] == [base]


def test_a_crashed_training_fails_and_a_missing_destination_is_404(
    client: replicate.Client,
) -> None:
    base = base_version(client)
    crashed = client.trainings.create(
        version=f"test/greeter:{base}",
        destination="test/greeter",
        input={"prefix": "x", "steps": 4, "crash": True},
    )
    done = wait(client, crashed.id)
    assert done.status == "failed" and "signal" in (done.error or "")
    with pytest.raises(ReplicateError) as missing:
        client.trainings.create(
            version=f"test/greeter:{base}", destination="test/nowhere", input={"prefix": "x"}
        )
    assert "status: 404" in str(missing.value)
    assert "The specified training destination does not exist" in str(missing.value)
