"""Priorities through a real server on both queues: a high-priority account's prediction goes
before a normal one's, a normal before a low one's, FIFO within each; the queue position each is
shown counts the more urgent ones ahead; a token can have its own priority. The create rate and
the cap on waiting predictions hold with a Redis queue too."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Pier, running_pier

from .conftest import redis_url_or_skip


@pytest.fixture(params=["inproc", "redis"])
def queue_url(request: pytest.FixtureRequest) -> str:
    return redis_url_or_skip() if request.param == "redis" else ""


async def token_for(pier: Pier, username: str) -> dict[str, str]:
    account = await pier.services.store.create_account(username)
    token = await pier.services.store.create_token(account["id"], "test")
    return {"Authorization": f"Bearer {token}"}


async def create(pier: Pier, headers: dict[str, str], sleep: float = 0.01) -> str:
    response = await pier.client.post(
        "/v1/models/t/sleep/predictions", json={"input": {"sleep": sleep}}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def get(pier: Pier, prediction: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await pier.client.get(f"/v1/predictions/{prediction}", headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def until_processing(pier: Pier, prediction: str) -> None:
    deadline = time.monotonic() + 60
    while (await get(pier, prediction))["status"] != "processing":
        assert time.monotonic() < deadline, "the model never started"
        await asyncio.sleep(0.05)


def cli(pier: Pier, *args: str) -> str:
    """A `pier` command on the server's machine, against the running server's database."""
    settings = pier.services.settings
    where = ["--data-dir", str(settings.data_dir), "--database", settings.database_url]
    done = subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *args, *where],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_high_priority_account_jumps_the_queue(tmp_path: Path, queue_url: str) -> None:
    async with running_pier(tmp_path, queue=queue_url, workers=1) as pier:
        version = await pier.add_fixture("t/sleep", "sleep.py")
        await pier.services.store.update_model(version["model_id"], visibility="public")
        high, low = await token_for(pier, "vip"), await token_for(pier, "batch")
        assert "vip: priority high" in cli(pier, "accounts", "priority", "vip", "high")
        assert (
            await pier.client.put("/v1/admin/accounts/batch/priority", json={"priority": "low"})
        ).status_code == 200
        busy = await create(pier, {}, sleep=60)
        await until_processing(pier, busy)
        lows = [await create(pier, low) for _ in range(2)]
        normal = await create(pier, {})
        vip = await create(pier, high)
        # A token of the low account with a priority of its own.
        rushed = await token_for(pier, "batch")
        token = await pier.services.store.account_for_token(rushed["Authorization"][7:])
        assert token is not None
        assert "priority high" in cli(pier, "token", "priority", token["token_id"], "high")
        rush = await create(pier, rushed)
        order = [(vip, high), (rush, rushed), (normal, {}), *((p, low) for p in lows)]
        positions = [(await get(pier, p, owner))["queue"] for p, owner in order]
        assert [q["position"] for q in positions] == [1, 2, 3, 4, 5]
        assert [q["ahead"] for q in positions] == [1, 2, 3, 4, 5]
        await pier.client.post(f"/v1/predictions/{busy}/cancel")
        starts = []
        for prediction, owner in order:
            deadline = time.monotonic() + 60
            while (done := await get(pier, prediction, owner))["status"] != "succeeded":
                assert done["status"] in ("starting", "processing"), done
                assert time.monotonic() < deadline, done
                await asyncio.sleep(0.05)
            starts.append(done["started_at"])
        assert starts == sorted(starts), starts


async def test_the_rate_and_the_cap_hold_with_the_queue_in_redis(tmp_path: Path) -> None:
    url = redis_url_or_skip()
    settings = {"queue": url, "create_rate_per_minute": 4, "max_queued_per_account": 2}
    async with running_pier(tmp_path, workers=1, **settings) as pier:
        await pier.add_fixture("t/sleep", "sleep.py")
        busy = await create(pier, {}, sleep=60)
        await until_processing(pier, busy)
        waiting = [await create(pier, {}) for _ in range(2)]
        capped = await pier.client.post(
            "/v1/models/t/sleep/predictions", json={"input": {"sleep": 0}}
        )
        assert capped.status_code == 429 and "waiting to start" in capped.json()["detail"]
        assert int(capped.headers["retry-after"]) >= 1
        for prediction in [*waiting, busy]:
            await pier.client.post(f"/v1/predictions/{prediction}/cancel")
        # The fifth create of the minute: the bucket in Redis is empty, whichever API process
        # is asked.
        async with running_pier(tmp_path, workers=0, **settings) as other:
            for api in (pier, other):
                limited = await api.client.post(
                    "/v1/models/t/sleep/predictions", json={"input": {"sleep": 0}}
                )
                assert limited.status_code == 429, limited.text
                assert "4 a minute" in limited.json()["detail"]
                assert 1 <= int(limited.headers["retry-after"]) <= 15
