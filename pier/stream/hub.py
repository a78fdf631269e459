"""Follows predictions for stream readers: wakes them on every change, sends keep-alives.

The hub is a dispatcher listener. It keeps a signal only for predictions someone is reading, so
a change to a prediction nobody streams costs one dict lookup. A reader holds the prediction's
live row and, on each wake-up, sends what its cursor has not covered yet (see `events.py`).
Readers of one prediction share its signal, and readers at the same place share the encoded
bytes, so a hundred readers cost little more than one; the model's events only flip a flag.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pier.jobs import PredictionRecord
from pier.stream.events import Cursor, next_events
from pier.stream.sse import KEEPALIVE, comment, encode_all

if TYPE_CHECKING:
    from pier.dispatch import Dispatcher, Live

STORE_POLL = 0.5  # seconds between reads of a prediction this process is not running


@dataclass
class _Signal:
    """A level that readers wait on; firing wakes every current waiter at once.

    Between two firings the row does not change, so the bytes for a given cursor are computed
    once and shared by every reader at that cursor.
    """

    event: asyncio.Event = field(default_factory=asyncio.Event)
    readers: int = 0
    shared: dict[Cursor, tuple[bytes, Cursor]] = field(default_factory=dict)

    def fire(self) -> None:
        self.event.set()
        self.event = asyncio.Event()
        self.shared = {}

    def pending(self, row: PredictionRecord, cursor: Cursor) -> tuple[bytes, Cursor]:
        hit = self.shared.get(cursor)
        if hit is None:
            events, after = next_events(row, cursor)
            hit = self.shared[cursor] = (encode_all(events), after)
        return hit


@dataclass
class Source:
    """What a reader follows: the live row while this process runs the prediction."""

    prediction_id: str
    row: PredictionRecord
    live: bool


class StreamHub:
    keepalive: float = 10.0  # the longest silence before a `: keepalive` (clients time out at 30)

    def __init__(
        self,
        live: dict[str, Live],
        load: Callable[[str], Awaitable[PredictionRecord | None]],
    ) -> None:
        self._live = live
        self._load = load
        self._signals: dict[str, _Signal] = {}
        self._ticker: asyncio.Task[None] | None = None

    @classmethod
    def for_dispatcher(cls, dispatcher: Dispatcher) -> StreamHub:
        hub = cls(dispatcher.live, dispatcher.store.get_prediction)
        dispatcher.listeners.append(hub.on_change)
        return hub

    def on_change(self, live: Live) -> None:
        signal = self._signals.get(live.id)
        if signal is not None:
            signal.fire()

    @property
    def readers(self) -> int:
        return sum(signal.readers for signal in self._signals.values())

    async def open(self, prediction_id: str, token: str) -> Source | None:
        """The prediction behind a stream URL, or None when the id and token do not match."""
        live = self._live.get(prediction_id)
        row = live.row if live is not None else await self._load(prediction_id)
        if row is None:
            return None
        # as bytes: compare_digest refuses strings with characters outside ASCII
        given = token.encode(errors="replace")
        if not secrets.compare_digest(str(row["stream_token"]).encode(), given):
            return None
        return Source(prediction_id, row, live is not None)

    async def follow(self, source: Source, cursor: Cursor) -> AsyncIterator[bytes]:
        """The stream's bytes from `cursor` on, until `done`."""
        yield comment("pier stream")  # the headers and some first bytes go out at once
        if not source.live:
            async for chunk in self._follow_stored(source, cursor):
                yield chunk
            return
        signal = self._signals.setdefault(source.prediction_id, _Signal())
        signal.readers += 1
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        try:
            async for chunk in self._follow_live(source.row, cursor, signal):
                yield chunk
        finally:
            signal.readers -= 1
            if signal.readers == 0 and self._signals.get(source.prediction_id) is signal:
                del self._signals[source.prediction_id]

    async def _follow_live(
        self, row: PredictionRecord, cursor: Cursor, signal: _Signal
    ) -> AsyncIterator[bytes]:
        quiet_since = time.monotonic()
        while True:
            waiter = signal.event  # taken before reading the row, so no change is missed
            chunk, cursor = signal.pending(row, cursor)
            if chunk:
                yield chunk
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= self.keepalive / 2:
                yield KEEPALIVE
                quiet_since = time.monotonic()
            if cursor.stage == "done":
                return
            await waiter.wait()

    async def _tick(self) -> None:
        """Wakes every reader now and then, so quiet streams send their keep-alives."""
        while self._signals:
            await asyncio.sleep(self.keepalive / 2)
            for signal in list(self._signals.values()):
                signal.fire()

    async def _follow_stored(self, source: Source, cursor: Cursor) -> AsyncIterator[bytes]:
        """A prediction this process is not running: what the store has, re-read until done."""
        row = source.row
        quiet_since = time.monotonic()
        while True:
            events, cursor = next_events(row, cursor)
            if events:
                yield encode_all(events)
                quiet_since = time.monotonic()
            if cursor.stage == "done":
                return
            if time.monotonic() - quiet_since >= self.keepalive / 2:
                yield KEEPALIVE
                quiet_since = time.monotonic()
            await asyncio.sleep(STORE_POLL)
            row = await self._load(source.prediction_id) or row
