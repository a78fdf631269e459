"""The change feed: a hint, sent to every process, that a job ended or should be canceled.

Nothing depends on a hint arriving: the store is the record, and whoever waits re-reads it now
and then anyway. The feed only makes the wait short. In process it is a direct call; with Redis
it is one pub/sub channel (`pier:events`) that every API process and worker listens to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from pier.queue import keys

log = logging.getLogger(__name__)

OnMessage = Callable[[str, str], None]  # (kind, job id); kinds: "done", "cancel"
RECONNECT_WAIT = 1.0


class Feed(Protocol):
    async def start(self, on_message: OnMessage) -> None: ...

    async def publish(self, kind: str, job_id: str) -> None: ...

    async def close(self) -> None: ...


class InProcessFeed:
    def __init__(self) -> None:
        self._on_message: OnMessage | None = None

    async def start(self, on_message: OnMessage) -> None:
        self._on_message = on_message

    async def publish(self, kind: str, job_id: str) -> None:
        if self._on_message is not None:
            self._on_message(kind, job_id)

    async def close(self) -> None:
        self._on_message = None


class RedisFeed:
    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: aioredis.Redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    async def start(self, on_message: OnMessage) -> None:
        self._listener = asyncio.create_task(self._listen(on_message))

    async def publish(self, kind: str, job_id: str) -> None:
        try:
            await self.redis.publish(keys.EVENTS, f"{kind} {job_id}")
        except (RedisError, OSError) as exc:  # a hint only: waiters also re-read the store
            log.warning("could not publish %s of %s: %s", kind, job_id, exc)

    async def _listen(self, on_message: OnMessage) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(keys.EVENTS)
                    self.subscribed.set()
                    async for message in pubsub.listen():
                        kind, _, job_id = str(message.get("data", "")).partition(" ")
                        if job_id:
                            on_message(kind, job_id)
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                log.warning("change feed lost (%s); listening again in %.0f s", exc, RECONNECT_WAIT)
                await asyncio.sleep(RECONNECT_WAIT)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()


def open_feed(url: str) -> Feed:
    if not url:
        return InProcessFeed()
    return RedisFeed(url)
