"""A prediction's log, kept to its last N bytes, at a cost linear in what the model prints.

Text is appended as chunks; once they outgrow the limit, whole lines are dropped from the top
and the log starts with one marker line that says how much went, for people (in bytes) and for
the stream (in characters, so event ids stay positions in everything the model ever printed):

    [… 21.3 MB of earlier logs dropped (22,334,455 characters) …]

`split()` reads that line back from a stored log, so a log is self-describing: the store needs
no other column to know where its text sits in the whole.
"""

from __future__ import annotations

import collections
import re

DEFAULT_LIMIT = 1024 * 1024
MIN_LIMIT = 1024
MARKER_ROOM = 128  # bytes kept free for the marker line (it is under 90)
_MARKER = re.compile(r"\[… [^\n]{1,40} of earlier logs dropped \(([\d,]{1,30}) characters\) …\]\n")


def _nbytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def human_size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    value = count / 1000
    for unit in ("kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def marker(dropped_bytes: int, dropped_chars: int) -> str:
    size = human_size(dropped_bytes)
    return f"[… {size} of earlier logs dropped ({dropped_chars:,} characters) …]\n"


def locate(logs: str) -> tuple[int, int]:
    """Where a stored log's kept text sits: (characters dropped before it, index it starts at)."""
    if not logs.startswith("[… "):
        return 0, 0
    found = _MARKER.match(logs)
    if found is None:
        return 0, 0
    return int(found.group(1).replace(",", "")), found.end()


def split(logs: str) -> tuple[int, str]:
    """A stored log as (characters dropped before its text, the text kept)."""
    dropped, start = locate(logs)
    return dropped, logs[start:]


def end(logs: str) -> int:
    """How many characters the model had printed when this log was taken (never decreases)."""
    dropped, start = locate(logs)
    return dropped + len(logs) - start


class LogTail:
    """The end of a log, at most `limit` bytes of UTF-8 including the marker line."""

    def __init__(self, limit: int = DEFAULT_LIMIT, text: str = "") -> None:
        self.limit = max(limit, MIN_LIMIT)
        self._chunks: collections.deque[tuple[str, int]] = collections.deque()
        self._bytes = 0  # of the kept chunks
        self._chars = 0
        self.dropped_chars, kept = split(text)
        self.dropped_bytes = self.dropped_chars  # the best guess a stored marker allows
        stored_dropped = self.dropped_chars
        if kept:
            self._add(kept)
        self._text: str | None = text if self.dropped_chars == stored_dropped else None
        self._rendered = len(text)  # characters in the last text() (a measure of its cost)
        self.pending = 0  # characters appended since the last text()

    @property
    def end(self) -> int:
        """Characters appended since the start, dropped ones included."""
        return self.dropped_chars + self._chars

    def append(self, text: str) -> None:
        if not text:
            return
        self._add(text)
        self.pending += len(text)
        self._text = None

    def _add(self, text: str) -> None:
        size = _nbytes(text)
        self._chunks.append((text, size))
        self._bytes += size
        self._chars += len(text)
        budget = self.limit - MARKER_ROOM
        if self._bytes > budget:
            self._trim(budget)

    def _trim(self, budget: int) -> None:
        """Drop from the top until the kept text fits `budget`, at a line start if one is near."""
        while self._bytes > budget:
            head, size = self._chunks.popleft()
            excess = self._bytes - budget
            self._bytes -= size
            self._chars -= len(head)
            if size <= excess:
                self._drop(len(head), size)
                continue
            raw = head.encode()
            newline = raw.find(b"\n", excess - 1)
            at_line = newline >= 0 and (newline + 1 < len(raw) or bool(self._chunks))
            cut = newline + 1 if at_line else excess
            rest = raw[cut:].decode("utf-8", "ignore")  # a split character goes entirely
            self._drop(len(head) - len(rest), size - _nbytes(rest))
            if rest:
                self._chunks.appendleft((rest, _nbytes(rest)))
                self._bytes += _nbytes(rest)
                self._chars += len(rest)

    def _drop(self, chars: int, size: int) -> None:
        self.dropped_chars += chars
        self.dropped_bytes += size

    def text(self) -> str:
        """The log as stored: the marker line when something was dropped, then the kept text."""
        if self._text is None:
            kept = "".join(chunk for chunk, _ in self._chunks)
            head = marker(self.dropped_bytes, self.dropped_chars) if self.dropped_chars else ""
            self._text = head + kept
            self._rendered = len(self._text)
            self.pending = 0
        return self._text

    @property
    def changed(self) -> bool:
        return self._text is None

    def cheap_to_render(self, small: int = 16 * 1024) -> bool:
        """Whether text() now costs little against what was appended since the last one."""
        return self._rendered <= small or self.pending * 4 >= self._rendered
