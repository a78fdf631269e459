"""A Redis that goes away: creates answer 503 and leave nothing behind; when it comes back,
Pier carries on without a restart."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import running_pier


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowAwayRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[ThrowAwayRedis]:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed; the Redis outage test needs its own server"
        if __import__("os").environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = ThrowAwayRedis(_free_port())
    server.start()
    yield server
    server.stop()


async def test_creates_answer_503_while_redis_is_gone(tmp_path: Path, own_redis) -> None:
    async with running_pier(tmp_path, queue=own_redis.url) as pier:
        await pier.add_fixture("t/hello", "hello_world.py")
        first = await pier.create("t/hello", {"text": "before"}, wait=30)
        assert first.json()["status"] == "succeeded", first.text

        own_redis.stop()
        refused = await pier.create("t/hello", {"text": "during"})
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert "queue is unreachable" in refused.json()["detail"]
        listed = (await pier.client.get("/v1/predictions")).json()["results"]
        assert [p["input"]["text"] for p in listed] == ["before"]  # nothing half-accepted

        own_redis.start()  # empty again: no stream, no consumer group
        deadline = time.monotonic() + 30
        while True:
            again = await pier.create("t/hello", {"text": "after"}, wait=5)
            if again.status_code == 201 and again.json()["status"] == "succeeded":
                break
            assert again.status_code in (201, 503), again.text
            assert time.monotonic() < deadline, again.text
            await asyncio.sleep(0.2)
        assert again.json()["output"] == "hello after"
