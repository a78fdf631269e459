"""The server-sent events wire format, as both official clients parse it.

Every event carries `event:`, `id:` and `data:` lines and ends with a blank line (the Python
client dispatches an event only at a blank line and only when it has an id). Data holding line
breaks goes out as several `data:` lines, which clients join again with `\\n`. SSE has no way to
carry a carriage return, so `\\r\\n` and `\\r` become line breaks too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

EventName = Literal["output", "logs", "error", "done"]

KEEPALIVE = b": keepalive\n\n"
CONTENT_TYPE = "text/event-stream"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Event:
    name: EventName
    data: str
    id: str

    def encode(self) -> bytes:
        lines = [f"event: {self.name}", f"id: {self.id}"]
        lines.extend(f"data: {line}" for line in _LINE_BREAK.split(self.data))
        return ("\n".join(lines) + "\n\n").encode()


def encode_all(events: Iterable[Event]) -> bytes:
    return b"".join(event.encode() for event in events)


def comment(text: str) -> bytes:
    """A comment line; clients ignore it, proxies and read timeouts see traffic."""
    return b"".join(f": {line}\n".encode() for line in _LINE_BREAK.split(text)) + b"\n"
