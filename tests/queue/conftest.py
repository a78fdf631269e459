"""Queues under test: the in-process one and Redis Streams on a real Redis server.

The Redis server comes from PIER_TEST_REDIS (default: the local one, database 15, emptied
first). Without one the Redis cases are skipped with the reason, except under CI=true, where a
missing Redis is a failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import redis

from pier.queue import JobQueue, open_queue

REDIS_URL = os.environ.get("PIER_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_url_or_skip(url: str = REDIS_URL) -> str:
    """`url` (the test Redis by default), emptied first; skipped without it, failed under CI."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {url} does not answer ({exc}); start it or set PIER_TEST_REDIS"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(params=["inproc", "redis"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[JobQueue]:
    url = redis_url_or_skip() if request.param == "redis" else ""
    q = open_queue(url)
    await q.start()
    yield q
    await q.close()
