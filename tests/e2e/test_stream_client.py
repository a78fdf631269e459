"""The official Python client's `stream()` and webhook validation against a real `pier serve`."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import replicate
from replicate.webhook import Webhooks

from tests.conftest import BUILTIN
from tests.e2e.conftest import Server
from tests.e2e.test_official_client import add


class Hooks(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], str]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    received: list[tuple[dict[str, str], str]] = []
    handler = type("Recording", (Hooks,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(
    server_factory: type[Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[replicate.Client]:
    monkeypatch.setenv("PIER_ALLOW_PRIVATE_WEBHOOKS", "1")
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    for slug in ("echo", "stream-words"):
        add(server, BUILTIN / slug, f"pier/{slug}")
    client = replicate.Client(api_token=server.token, base_url=server.url)
    yield client
    client._client.close()  # the client has no close(); its sockets would leak


def test_stream_yields_each_token_as_it_is_made(client: replicate.Client) -> None:
    arrivals = []
    tokens = []
    for event in client.stream("pier/stream-words", input={"text": "one two three", "delay": 0.3}):
        if event.event.value == "output":
            tokens.append(str(event))
            arrivals.append(time.monotonic())
    assert tokens == ["one ", "two ", "three"]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) > 0.15  # the model waits 0.3 s between words; the tokens did too


def test_an_existing_prediction_streams_from_the_start(client: replicate.Client) -> None:
    prediction = client.models.predictions.create(
        model="pier/stream-words", input={"text": "late reader"}, wait=True
    )
    assert prediction.status == "succeeded"
    events = list(prediction.stream())
    assert [str(e) for e in events if e.event.value == "output"] == ["late ", "reader"]
    assert events[-1].event.value == "done"


def test_webhook_validates_with_the_client(
    client: replicate.Client, receiver: tuple[str, list[tuple[dict[str, str], str]]]
) -> None:
    url, received = receiver
    prediction = client.models.predictions.create(
        model="pier/echo",
        input={"text": "hook"},
        webhook=url,
        webhook_events_filter=["completed"],
    )
    deadline = time.monotonic() + 30
    while not received:
        assert time.monotonic() < deadline, "no webhook arrived"
        time.sleep(0.02)
    headers, body = received[0]
    assert f'"id":"{prediction.id}"' in body and '"status":"succeeded"' in body
    secret = client.webhooks.default.secret()
    Webhooks.validate(headers=headers, body=body, secret=secret, tolerance=300)
