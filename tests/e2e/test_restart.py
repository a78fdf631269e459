"""Kill `pier serve` mid-run: nothing accepted is lost."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from replicate.webhook import Webhooks, WebhookSigningSecret

from tests.conftest import BUILTIN
from tests.e2e.conftest import Server
from tests.e2e.test_official_client import add


def wait_for(client: httpx.Client, pid: str, statuses: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/predictions/{pid}").json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_kill_server_mid_run_loses_nothing(server_factory: type[Server], tmp_path: Path) -> None:
    server = server_factory(tmp_path / "data")
    server.start("--no-builtin-models")
    add(server, BUILTIN / "slow", "pier/slow")
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:

        def create(steps: int) -> str:
            body = {"input": {"steps": steps, "delay": 0.05}}
            return client.post("/v1/models/pier/slow/predictions", json=body).json()["id"]

        running = create(1000)
        queued = [create(2), create(3)]
        wait_for(client, running, {"processing"})
    server.kill()

    server.start("--no-builtin-models")
    with httpx.Client(base_url=server.url, headers=headers) as client:
        interrupted = client.get(f"/v1/predictions/{running}").json()
        assert interrupted["status"] == "failed"
        assert "stopped while this prediction was running" in interrupted["error"]
        assert interrupted["completed_at"]
        outputs = [wait_for(client, pid, {"succeeded", "failed"})["output"] for pid in queued]
        assert outputs == ["Finished 2 steps", "Finished 3 steps"]


class Receiver(http.server.ThreadingHTTPServer):
    """A webhook endpoint on this machine: answers 500 to the first `failures` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[int, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Hook)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count:
            assert time.monotonic() < deadline, f"webhooks received: {self.calls}"
            time.sleep(0.05)


class _Hook(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers["content-length"]))
        with self.server.lock:
            status = 500 if len(self.server.calls) < self.server.failures else 200
            self.server.calls.append((status, dict(self.headers.items()), body))
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver(failures=2)
    thread = threading.Thread(target=hook.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.shutdown()
    hook.server_close()


def test_a_prediction_cut_off_by_a_crash_still_sends_its_completed_webhook(
    server_factory: type[Server],
    tmp_path: Path,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIER_ALLOW_PRIVATE_WEBHOOKS", "true")  # the receiver is on loopback
    server = server_factory(tmp_path / "data")
    server.start("--no-builtin-models")
    add(server, BUILTIN / "slow", "pier/slow")
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        body = {
            "input": {"steps": 1000, "delay": 0.05},
            "webhook": receiver.url,
            "webhook_events_filter": ["completed"],
        }
        running = client.post("/v1/models/pier/slow/predictions", json=body).json()["id"]
        wait_for(client, running, {"processing"})
        secret = client.get("/v1/webhooks/default/secret").json()["key"]
    server.kill()
    assert receiver.calls == []

    server.start("--no-builtin-models")
    # the first two attempts fail; the third, after backoff, is taken
    receiver.wait_for(3)
    with httpx.Client(base_url=server.url, headers=headers) as client:
        final = client.get(f"/v1/predictions/{running}").json()
    assert [status for status, _, _ in receiver.calls] == [500, 500, 200]
    assert len({call_headers["webhook-id"] for _, call_headers, _ in receiver.calls}) == 1
    for _, call_headers, raw in receiver.calls:
        Webhooks.validate(
            headers=call_headers,
            body=raw.decode(),
            secret=WebhookSigningSecret(key=secret),
            tolerance=300,
        )
        sent = json.loads(raw)
        assert sent["id"] == running and sent["status"] == "failed"
        assert "stopped while this prediction was running" in sent["error"]
    assert json.loads(receiver.calls[-1][2]) == final
