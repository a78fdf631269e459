"""Delivers a prediction's webhooks in the background, in order, never holding the model up.

The sender is a dispatcher listener: on a change it only notes what happened and wakes the
prediction's own delivery task. Each task sends, in order: `start` (the prediction as it was
when it started), `output`/`logs` (the prediction as it is at send time, at most one every
`throttle` seconds, so a burst of tokens becomes one request), and `completed` (the final
prediction), which alone is retried with backoff for about a minute. Every body is the JSON of
`GET /v1/predictions/{id}` at that moment, signed with the account's webhook secret.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from pier import logtail
from pier.webhooks import signing
from pier.webhooks.targets import EVENTS

if TYPE_CHECKING:
    from pier.dispatch import Live

log = logging.getLogger(__name__)

TERMINAL = ("succeeded", "failed", "canceled")
Render = Callable[["Live"], dict[str, Any]]
SecretFor = Callable[[str], Awaitable[str | None]]


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def _sizes(row: dict[str, Any]) -> tuple[int, int]:
    output = row.get("output")
    outputs = len(output) if isinstance(output, list) else int(output is not None)
    return outputs, logtail.end(row.get("logs") or "")  # grows even when the log is capped


@dataclass(eq=False)
class _Watch:
    live: Live
    url: str
    events: frozenset[str]
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    start_body: bytes | None = None
    started: bool = False
    sent: tuple[int, int] = (0, 0)
    last_sent: float = float("-inf")

    def news(self) -> bool:
        outputs, logs = _sizes(self.live.row)
        return ("output" in self.events and outputs > self.sent[0]) or (
            "logs" in self.events and logs > self.sent[1]
        )


class WebhookSender:
    throttle = 0.5  # seconds between output/logs deliveries of one prediction
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # for `completed` only

    def __init__(
        self, render: Render, secret_for: SecretFor, http: httpx.AsyncClient, concurrency: int = 32
    ) -> None:
        self.render = render
        self.secret_for = secret_for
        self.http = http
        self._slots = asyncio.Semaphore(concurrency)
        self._watches: dict[str, _Watch] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ended: collections.deque[str] = collections.deque(maxlen=1000)
        self.delivered = 0
        self.failed = 0

    # -- listening (sync, on the event loop, must stay cheap) --------------------------------
    def on_change(self, live: Live) -> None:
        url = live.row.get("webhook")
        if not url:
            return
        watch = self._watches.get(live.id)
        if watch is None:
            if live.id in self._ended:
                return
            chosen = live.row.get("webhook_events_filter")
            events = frozenset(EVENTS if chosen is None else chosen)
            watch = self._watches[live.id] = _Watch(live, url, events)
            task = asyncio.get_running_loop().create_task(self._run(watch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if not watch.started and live.row["status"] == "processing":
            watch.started = True
            if "start" in watch.events:
                watch.start_body = _encode(self.render(live))
        watch.changed.set()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self, timeout: float) -> bool:
        """Wait until every delivery under way is done (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(list(self._tasks), timeout=deadline - time.monotonic())
        return not self._tasks

    # -- delivering --------------------------------------------------------------------------
    async def _run(self, watch: _Watch) -> None:
        try:
            await self._follow(watch)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not leak a task per prediction
            log.exception("webhook delivery for %s stopped", watch.live.id)
        finally:
            self._watches.pop(watch.live.id, None)
            self._ended.append(watch.live.id)

    async def _follow(self, watch: _Watch) -> None:
        row = watch.live.row
        while True:
            await watch.changed.wait()
            watch.changed.clear()
            if watch.start_body is not None:
                body, watch.start_body = watch.start_body, None
                await self._send(watch, body, "start")
            if row["status"] in TERMINAL:
                break
            if watch.news():
                delay = watch.last_sent + self.throttle - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)  # later changes ride along in this delivery
                if row["status"] in TERMINAL and "completed" in watch.events:
                    break
                await self._intermediate(watch)
        if "completed" in watch.events:
            await self._completed(watch)
        elif watch.news():
            delay = watch.last_sent + self.throttle - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._intermediate(watch)

    async def _intermediate(self, watch: _Watch) -> None:
        watch.sent = _sizes(watch.live.row)
        watch.last_sent = time.monotonic()
        kind = "output" if "output" in watch.events else "logs"
        await self._send(watch, _encode(self.render(watch.live)), kind)

    async def _completed(self, watch: _Watch) -> None:
        body = _encode(self.render(watch.live))
        message_id = signing.new_message_id()  # the same on every retry
        for attempt, delay in enumerate((0.0, *self.retry_delays)):
            if delay:
                await asyncio.sleep(delay)
            if await self._send(watch, body, "completed", message_id):
                return
            log.info("webhook completed for %s: attempt %d failed", watch.live.id, attempt + 1)
        log.warning("webhook completed for %s gave up after retries", watch.live.id)

    async def _send(
        self, watch: _Watch, body: bytes, kind: str, message_id: str | None = None
    ) -> bool:
        secret = await self.secret_for(watch.live.row["account_id"])
        if secret is None:
            return True  # the account is gone; nobody to sign for
        message_id = message_id or signing.new_message_id()
        headers = signing.headers(secret, message_id, int(time.time()), body)
        headers["user-agent"] = "pier-webhooks/0.1"
        async with self._slots:
            try:
                response = await self.http.post(watch.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                self.failed += 1
                log.info("webhook %s for %s to %s failed: %s", kind, watch.live.id, watch.url, exc)
                return False
        if 200 <= response.status_code < 300:
            self.delivered += 1
            return True
        self.failed += 1
        log.info(
            "webhook %s for %s to %s got HTTP %d",
            kind,
            watch.live.id,
            watch.url,
            response.status_code,
        )
        return False
