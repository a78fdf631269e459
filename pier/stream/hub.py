"""Follows predictions for stream readers: wakes them on every change, sends keep-alives.

The hub is a dispatcher listener. It keeps a signal only for predictions someone is reading, so
a change to a prediction nobody streams costs one dict lookup. A reader holds the prediction's
live row and, on each wake-up, sends what its cursor has not covered yet (see `events.py`);
many readers of one prediction share its signal and never slow the model down: the model's
events only flip a flag, the readers do their own work on their own time.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pier.stream.events import Cursor, next_events
from pier.stream.sse import KEEPALIVE, comment, encode_all

if TYPE_CHECKING:
    from pier.dispatch import Dispatcher, Live

Row = dict[str, Any]
STORE_POLL = 0.5  # seconds between reads of a prediction this process is not running


@dataclass
class _Signal:
    """A level that readers wait on; firing wakes every current waiter at once."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    readers: int = 0

    def fire(self) -> None:
        self.event.set()
        self.event = asyncio.Event()


@dataclass
class Source:
    """What a reader follows: the live row while this process runs the prediction."""

    prediction_id: str
    row: Row
    live: bool


class StreamHub:
    keepalive: float = 10.0  # seconds of silence before a `: keepalive` comment (clients: 30 s)

    def __init__(
        self,
        live: dict[str, Live],
        load: Callable[[str], Awaitable[Row | None]],
    ) -> None:
        self._live = live
        self._load = load
        self._signals: dict[str, _Signal] = {}

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
        if row is None or not secrets.compare_digest(str(row["stream_token"]), token):
            return None
        return Source(prediction_id, row, live is not None)

    async def follow(self, source: Source, cursor: Cursor) -> AsyncIterator[bytes]:
        """The stream's bytes from `cursor` on, until `done`."""
        signal = self._signals.setdefault(source.prediction_id, _Signal())
        signal.readers += 1
        try:
            yield comment("pier stream")  # sends the headers at once, and some first bytes
            async for chunk in self._events(source, cursor, signal):
                yield chunk
        finally:
            signal.readers -= 1
            if signal.readers == 0 and self._signals.get(source.prediction_id) is signal:
                del self._signals[source.prediction_id]

    async def _events(
        self, source: Source, cursor: Cursor, signal: _Signal
    ) -> AsyncIterator[bytes]:
        row = source.row
        quiet_since = time.monotonic()
        while True:
            waiter = signal.event  # taken before reading the row, so no change is missed
            events, cursor = next_events(row, cursor)
            if events:
                yield encode_all(events)
                quiet_since = time.monotonic()
            if cursor.stage == "done":
                return
            if not source.live:
                # Running elsewhere (another process) or gone from memory: read the store.
                row = await self._reload(source, row)
                if time.monotonic() - quiet_since > self.keepalive:
                    yield KEEPALIVE
                    quiet_since = time.monotonic()
                continue
            left = self.keepalive - (time.monotonic() - quiet_since)
            try:
                async with asyncio.timeout(max(0.0, left)):
                    await waiter.wait()
            except TimeoutError:
                yield KEEPALIVE
                quiet_since = time.monotonic()

    async def _reload(self, source: Source, row: Row) -> Row:
        await asyncio.sleep(STORE_POLL)
        fresh = await self._load(source.prediction_id)
        return fresh if fresh is not None else row
