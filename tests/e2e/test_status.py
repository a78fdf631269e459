"""`pier status` against a real server: the admin's tables, the raw JSON, and other accounts
turned away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_cli import pier
from tests.heartbeats import worker_row, write_heartbeat


def test_pier_status(
    server_factory: type[Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # the width rich lays tables out for, off a terminal
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    row = worker_row("e2e-worker", host="e2e-gpu-host", gpus=["0", "1"])
    write_heartbeat(f"sqlite:///{server.data_dir / 'pier.db'}", row)
    remote = ("--url", server.url, "--token", server.token)

    shown = pier("status", *remote).stdout
    assert "Processes:" in shown and "e2e-gpu-host" in shown and "GPU 0,1" in shown
    assert "No prediction is waiting." in shown

    raw = json.loads(pier("status", "--json", *remote).stdout)
    (worker,) = [p for p in raw["processes"] if p["id"] == "e2e-worker"]
    assert worker["alive"] is True and worker["slots"] == 2

    user = pier("token", "create", "--username", "eve", "--data-dir", str(server.data_dir))
    refused = pier("status", "--url", server.url, "--token", user.stdout.strip(), check=False)
    assert refused.returncode == 1 and "404" in refused.stderr
    assert "Traceback" not in refused.stderr
