"""Delivers a prediction's webhooks in the background, in order, never holding the model up.

The sender is a dispatcher listener: on a change it only notes what happened and wakes the
prediction's own delivery task. Each task sends, in order: `start` (the prediction as it was
when it started), `output`/`logs` (the prediction as it is at send time, at most one every
`throttle` seconds, so a burst of tokens becomes one request), and `completed` (the final
prediction). Every body is the JSON of `GET /v1/predictions/{id}` at that moment, signed with
the account's webhook secret.

`start`, `output` and `logs` are best effort, from memory. `completed` is durable: its row (the
body, the URL and the `webhook-id`) is written in the same transaction as the prediction's final
state (`completed_record`), including predictions failed by restart recovery. It is retried with
growing delays, the same `webhook-id` on every attempt, for up to `retry_delays` more attempts
and at most `give_up_after`; a restart picks up every delivery not yet done.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from pier import logtail
from pier.jobs import TERMINAL, PredictionRecord, Status
from pier.util import utcnow
from pier.webhooks import signing
from pier.webhooks.targets import EVENTS

if TYPE_CHECKING:
    from pier.dispatch import Live
    from pier.store import Row, Store

log = logging.getLogger(__name__)

ATTEMPT_HOLD = 60.0  # seconds an attempt is held by the process sending it

Render = Callable[[PredictionRecord], dict[str, Any]]
SecretFor = Callable[[str], Awaitable[str | None]]


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def _sizes(row: PredictionRecord) -> tuple[int, int]:
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
    # Delays between attempts of a `completed` webhook (about 70 minutes in all).
    retry_delays: tuple[float, ...] = (1, 2, 4, 8, 15, 30, 60, 120, 300, 600, 1200, 1800)
    give_up_after = timedelta(days=1)  # no attempt this long after the prediction ended
    keep_done = timedelta(days=1)  # delivered and abandoned rows are kept this long
    scan_interval = 5.0  # seconds between looks for deliveries due that nobody is sending

    def __init__(
        self,
        render: Render,
        secret_for: SecretFor,
        http: httpx.AsyncClient,
        store: Store,
        concurrency: int = 32,
    ) -> None:
        self.render = render
        self.secret_for = secret_for
        self.http = http
        self.store = store
        self._slots = asyncio.Semaphore(concurrency)
        self._watches: dict[str, _Watch] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._delivering: set[str] = set()  # ids of stored deliveries a task is sending now
        self._scanner: asyncio.Task[None] | None = None
        self._pruned_at = float("-inf")
        self._ended: collections.deque[str] = collections.deque(maxlen=1000)
        self.delivered = 0
        self.failed = 0

    # -- the durable `completed` record ------------------------------------------------------
    def completed_record(self, row: PredictionRecord) -> Row | None:
        """The stored `completed` delivery of a prediction that is ending now, if it has one.

        Called with the final prediction row, so that the caller writes it together with it.
        """
        url = row.get("webhook")
        chosen = row.get("webhook_events_filter")
        if not url or (chosen is not None and "completed" not in chosen):
            return None
        now = utcnow()
        return {
            "id": signing.new_message_id(),
            "prediction_id": row["id"],
            "account_id": row["account_id"],
            "url": url,
            "body": _encode(self.render(row)).decode(),
            "attempts": 0,
            "next_attempt_at": now,
            "delivered_at": None,
            "last_error": None,
            "created_at": now,
        }

    def start(self) -> None:
        """Begin delivering stored webhooks: those left from before a restart, and any due."""
        self._scanner = asyncio.get_running_loop().create_task(self._scan_forever())

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
            self._spawn(self._run(watch))
        if not watch.started and live.row["status"] == Status.PROCESSING:
            watch.started = True
            if "start" in watch.events:
                watch.start_body = _encode(self.render(live.row))
        watch.changed.set()

    async def stop(self) -> None:
        if self._scanner is not None:
            self._scanner.cancel()
            await asyncio.gather(self._scanner, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self, timeout: float) -> bool:
        """Wait until every delivery under way is done (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(list(self._tasks), timeout=deadline - time.monotonic())
        return not self._tasks

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
            # Stored with the final state; sent from here so it follows this prediction's others.
            for delivery_id in await self.store.pending_webhook_deliveries(watch.live.id):
                await self._deliver(delivery_id)
        elif watch.news():
            delay = watch.last_sent + self.throttle - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._intermediate(watch)

    async def _intermediate(self, watch: _Watch) -> None:
        watch.sent = _sizes(watch.live.row)
        watch.last_sent = time.monotonic()
        kind = "output" if "output" in watch.events else "logs"
        await self._send(watch, _encode(self.render(watch.live.row)), kind)

    async def _send(self, watch: _Watch, body: bytes, kind: str) -> None:
        row = watch.live.row
        error = await self._post(row["account_id"], watch.url, body, signing.new_message_id())
        if error is not None:
            log.info("webhook %s for %s to %s failed: %s", kind, row["id"], watch.url, error)

    async def _deliver(self, delivery_id: str) -> None:
        """Send a stored delivery until it is delivered or given up; each outcome is stored."""
        if delivery_id in self._delivering:
            return
        self._delivering.add(delivery_id)
        try:
            row = await self.store.get_webhook_delivery(delivery_id)
            while row is not None and row["next_attempt_at"] is not None:
                wait = (row["next_attempt_at"] - utcnow()).total_seconds()
                if wait > self.scan_interval:
                    break  # a later scan takes it up again; nothing waits in memory that long
                if wait > 0:
                    await asyncio.sleep(wait)
                hold = utcnow() + timedelta(seconds=ATTEMPT_HOLD)
                if not await self.store.claim_webhook_attempt(
                    delivery_id, row["next_attempt_at"], hold
                ):
                    break  # another process sends this attempt
                body = row["body"].encode()
                error = await self._post(row["account_id"], row["url"], body, row["id"])
                changes = self._outcome(row, error)
                await self.store.update_webhook_delivery(delivery_id, **changes)
                row.update(changes)
        finally:
            self._delivering.discard(delivery_id)

    def _outcome(self, row: Row, error: str | None) -> dict[str, Any]:
        now = utcnow()
        attempts = row["attempts"] + 1
        if error is None:
            return {"attempts": attempts, "next_attempt_at": None, "delivered_at": now}
        changes: dict[str, Any] = {"attempts": attempts, "last_error": error[:500]}
        late = now - row["created_at"] >= self.give_up_after
        if attempts > len(self.retry_delays) or late:
            log.warning(
                "webhook completed for %s to %s: gave up after %d attempts (%s)",
                row["prediction_id"],
                row["url"],
                attempts,
                error,
            )
            changes["next_attempt_at"] = None
        else:
            log.info(
                "webhook completed for %s to %s: attempt %d failed (%s)",
                row["prediction_id"],
                row["url"],
                attempts,
                error,
            )
            changes["next_attempt_at"] = now + timedelta(seconds=self.retry_delays[attempts - 1])
        return changes

    async def _post(self, account_id: str, url: str, body: bytes, message_id: str) -> str | None:
        """One signed POST; None when the receiver took it (2xx), else what went wrong."""
        secret = await self.secret_for(account_id)
        if secret is None:
            return None  # the account is gone; nobody to sign for
        headers = signing.headers(secret, message_id, int(time.time()), body)
        headers["user-agent"] = "pier-webhooks/0.1"
        async with self._slots:
            try:
                response = await self.http.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                self.failed += 1
                return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            self.delivered += 1
            return None
        self.failed += 1
        return f"HTTP {response.status_code}"

    # -- deliveries nobody is sending: left from before a restart, or a task that failed -----
    async def _scan_forever(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:  # the next round tries again
                log.exception("looking for webhook deliveries failed")
            await asyncio.sleep(self.scan_interval)

    async def scan(self) -> int:
        """Start sending every due delivery that no task is sending; returns how many."""
        now = utcnow()
        if time.monotonic() - self._pruned_at > 600:
            self._pruned_at = time.monotonic()
            await self.store.prune_webhook_deliveries(now - self.keep_done)
        started = 0
        for row in await self.store.due_webhook_deliveries(now, 500):
            if row["id"] in self._delivering or row["prediction_id"] in self._watches:
                continue  # being sent, or will be once the prediction's other webhooks are
            self._spawn(self._deliver(row["id"]))
            started += 1
        return started
