"""Kill `pier serve` mid-run: nothing accepted is lost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

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
