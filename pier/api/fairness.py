"""What a create passes before any work is done for it: the account's create rate, its cap on
predictions waiting to start (both 429 with Retry-After), and the Idempotency-Key that makes a
retried create return the first prediction instead of making another.

An account's count of waiting predictions is kept here for a second at a time, counted up as
this process accepts creates, so a create under the cap costs no extra read; a create the kept
count would refuse counts again first. The count comes from this process's own jobs with the
in-process queue (they all wait here), or from the store with a shared queue, where several API
processes may together let an account go past the cap by what each accepted within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pier.api.errors import ApiError
from pier.api.ratelimit import LocalLimiter, RateLimiter, RedisLimiter
from pier.dispatch import Dispatcher
from pier.jobs import PredictionRecord, Status
from pier.queue import lane_for
from pier.settings import Settings
from pier.store import Row, Store, StoreUnavailable
from pier.store.cache import LRU
from pier.util import new_id, utcnow

KEY_LIFETIME = timedelta(hours=24)
KEY_PATTERN = re.compile(r"^[\x20-\x7e]{1,255}$")  # printable ASCII
COUNT_SECONDS = 1.0  # how long an account's count of waiting predictions is trusted
CAP_RETRY_AFTER = 5  # seconds a client at the cap is told to wait
DUPLICATE_WAIT = 10.0  # seconds a duplicate waits for the first request to make its prediction
DUPLICATE_POLL = 0.02
ABANDONED = timedelta(minutes=2)  # a reservation whose prediction never came is given up
PRUNE_EVERY = 600.0  # seconds between deletions of keys past their lifetime


@dataclass
class Reservation:
    """An Idempotency-Key this request holds: its prediction gets `prediction_id`."""

    account_id: str
    key: str
    prediction_id: str


def lane(account: Row) -> int:
    """The queue lane of an account's new predictions: its token's priority, else its own."""
    return lane_for(account.get("token_priority") or account.get("priority"))


def idempotency_key(headers: Any) -> str | None:
    """The request's Idempotency-Key, checked (400 when malformed); None without one."""
    value = headers.get("idempotency-key")
    if value is None:
        return None
    if not KEY_PATTERN.match(value) or not value.strip():
        raise ApiError(
            400,
            "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
            "Invalid Idempotency-Key",
        )
    return str(value)


def fingerprint(path: str, body: dict[str, Any]) -> str:
    """What tells a retry of a create from another request: its address and its JSON body,
    key order and spacing aside."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def too_many(detail: str, retry_after: float) -> ApiError:
    seconds = max(1, math.ceil(retry_after))
    return ApiError(429, detail, headers={"Retry-After": str(seconds)}, retry_after=seconds)


class CreateGate:
    def __init__(self, settings: Settings, store: Store, dispatcher: Dispatcher) -> None:
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.limiter: RateLimiter | None = None
        if settings.create_rate_per_minute > 0:
            # A Redis queue: its Redis holds the buckets.
            client = getattr(dispatcher.queue, "redis", None)
            self.limiter = (
                RedisLimiter(client, settings.create_rate_per_minute)
                if client is not None
                else LocalLimiter(settings.create_rate_per_minute)
            )
        self._waiting: LRU[str, tuple[float, int]] = LRU(4096)  # account -> (until, count)
        self._next_prune = 0.0
        self._pruning: asyncio.Task[None] | None = None

    # -- rate and cap --------------------------------------------------------------------------
    async def check_rate(self, account: Row) -> None:
        if self.limiter is None:
            return
        wait = await self.limiter.take(account["id"])
        if wait > 0:
            rate = self.settings.create_rate_per_minute
            raise too_many(
                f"Too many predictions created: this account may create {rate} a minute. "
                f"Try again in {max(1, math.ceil(wait))} s.",
                wait,
            )

    async def check_waiting(self, account: Row) -> None:
        cap = self.settings.max_queued_per_account
        if cap <= 0:
            return
        now = time.monotonic()
        cached = self._waiting.get(account["id"])
        if cached is None or cached[0] < now or cached[1] >= cap:
            cached = (now + COUNT_SECONDS, await self._count_waiting(account["id"]))
            self._waiting.put(account["id"], cached)
        if cached[1] >= cap:
            raise too_many(
                f"This account already has {cap} predictions waiting to start, the most it may "
                f"have. Try again once some have started, or cancel some.",
                CAP_RETRY_AFTER,
            )

    async def _count_waiting(self, account_id: str) -> int:
        dispatcher = self.dispatcher
        if dispatcher.queue.record_first:  # a shared queue: jobs of every API process
            return await self.store.waiting_count(account_id)
        return sum(
            1
            for live in dispatcher.live.values()
            if live.row["account_id"] == account_id and live.status is Status.STARTING
        )

    def created(self, account: Row) -> None:
        """Count a prediction this process just accepted for the account."""
        cached = self._waiting.get(account["id"])
        if cached is not None:
            self._waiting.put(account["id"], (cached[0], cached[1] + 1))

    # -- Idempotency-Key -----------------------------------------------------------------------
    async def reserve(
        self, account: Row, key: str, request_sha256: str
    ) -> Reservation | PredictionRecord:
        """Reserve the key for a new prediction, or the prediction it was used for already.

        Concurrent requests with one key: one reserves it, the others wait for its prediction
        and return that. 422 when the key was used for a different request; 409 when the first
        request is still making its prediction after DUPLICATE_WAIT seconds.
        """
        self._prune()
        account_id = account["id"]
        deadline = time.monotonic() + DUPLICATE_WAIT
        while True:
            now = utcnow()
            reservation = Reservation(account_id, key, new_id())
            row = {
                "account_id": account_id,
                "key": key,
                "request_sha256": request_sha256,
                "prediction_id": reservation.prediction_id,
                "created_at": now,
            }
            if await self.store.reserve_idempotency_key(row):
                return reservation
            found = await self.store.find_idempotency_key(account_id, key)
            if found is None:
                continue  # given back meanwhile
            made = found["prediction_id"]
            if found["created_at"] <= now - KEY_LIFETIME:  # past its lifetime: a new key
                await self.store.forget_idempotency_key(account_id, key, made)
                continue
            if found["request_sha256"] != request_sha256:
                raise ApiError(
                    422,
                    "This Idempotency-Key was already used for a different request in the last "
                    "24 hours. Use a new key for a new request.",
                    "Idempotency-Key reused",
                )
            prediction = await self.store.get_prediction(made, account_id)
            if prediction is not None:
                return prediction
            if found["created_at"] < now - ABANDONED:  # its request died before making it
                await self.store.release_idempotency_key(account_id, key, made)
                continue
            if time.monotonic() > deadline:
                raise ApiError(
                    409,
                    "A request with this Idempotency-Key is still creating its prediction. "
                    "Retry in a moment to get it.",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(DUPLICATE_POLL)

    async def release(self, reservation: Reservation) -> None:
        """Give the key back when its create failed before making the prediction (a retry may
        then try again)."""
        await self.store.release_idempotency_key(
            reservation.account_id, reservation.key, reservation.prediction_id
        )

    def _prune(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        self._pruning = asyncio.get_running_loop().create_task(self._prune_now())

    async def _prune_now(self) -> None:
        with contextlib.suppress(StoreUnavailable):  # tried again at the next interval
            await self.store.prune_idempotency_keys(utcnow() - KEY_LIFETIME)
