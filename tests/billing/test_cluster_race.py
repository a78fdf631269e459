"""Credit across processes: two API processes on one PostgreSQL and one Redis queue, 200 racing
creates against credit for exactly 5, a worker that runs them; nothing is overspent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PREDICTORS
from tests.e2e.conftest import Server, Worker
from tests.postgres import ThrowAwayDatabase, postgres_or_skip
from tests.queue.conftest import redis_url_or_skip

pytestmark = pytest.mark.e2e


def _model(tmp: Path) -> Path:
    target = tmp / "hello"
    target.mkdir()
    (target / "predict.py").write_text((PREDICTORS / "hello_world.py").read_text())
    (target / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    return target


async def _race(servers: list[Server], token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=100)
    clients = [
        httpx.AsyncClient(base_url=s.url, headers=headers, limits=limits, timeout=60)
        for s in servers
    ]
    try:

        async def create(index: int) -> int:
            client = clients[index % len(clients)]
            response = await client.post("/v1/models/acme/hello/predictions", json={"input": {}})
            return response.status_code

        return list(await asyncio.gather(*(create(i) for i in range(200))))
    finally:
        for client in clients:
            await client.aclose()


def test_two_api_processes_never_overspend(tmp_path: Path) -> None:
    postgres_or_skip()
    database = ThrowAwayDatabase("pier_billing_race")
    servers: list[Server] = []
    worker = None
    try:
        env = {
            "PIER_DATABASE": str(database),
            "PIER_QUEUE": redis_url_or_skip(),
            "PIER_FILES": str(tmp_path / "files"),  # one file store for every process
        }
        for index in range(2):
            server = Server(tmp_path / f"api{index}")
            server.env = env
            servers.append(server.start("--no-builtin-models", "--workers", "0"))
        added = subprocess.run(
            [sys.executable, "-m", "pier.cli.main", "models", "add", str(_model(tmp_path))]
            + ["--name", "acme/hello", "--data-dir", str(servers[0].data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )
        assert added.returncode == 0, added.stderr
        admin = {"Authorization": f"Bearer {servers[0].token}"}
        with httpx.Client(base_url=servers[0].url, headers=admin, timeout=30) as client:
            assert (
                client.put(
                    "/v1/admin/prices", json={"model": "acme/hello", "per_run_usd": "0.2"}
                ).status_code
                == 200
            )
            assert (
                client.post("/v1/admin/accounts/admin/credit", json={"amount_usd": "1"}).status_code
                == 200
            )

        codes = asyncio.run(_race(servers, servers[0].token))
        assert codes.count(201) == 5 and codes.count(402) == 195, sorted(set(codes))

        worker = Worker(servers[0], tmp_path / "worker")
        with httpx.Client(base_url=servers[1].url, headers=admin, timeout=30) as client:
            deadline = time.monotonic() + 180  # a worker starting on a busy machine
            while True:
                listed = client.get("/v1/predictions").json()["results"]
                billing = client.get("/v1/billing").json()
                if [p["status"] for p in listed] == ["succeeded"] * 5 and billing[
                    "held_usd"
                ] == "0.00":
                    break
                assert time.monotonic() < deadline, (listed, billing)
                time.sleep(0.2)
            assert {p["metrics"]["cost_usd"] for p in listed} == {"0.20"}
            assert billing["balance_usd"] == "0.00" and billing["spent_this_month_usd"] == "1.00"
            ledger = client.get("/v1/billing/ledger").json()["results"]
            assert sorted(e["kind"] for e in ledger) == ["charge"] * 5 + ["hold"] * 5 + ["topup"]
    finally:
        if worker is not None:
            worker.stop()
        for server in servers:
            server.stop()
        database.drop()
