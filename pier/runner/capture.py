"""Capture everything the model process writes to fds 1 and 2, and forward it as log lines.

Both fds point at one pipe (the parent sets it up when it starts the process), so stdout and
stderr keep their relative order, and output from C extensions and subprocesses is caught too.
A reader thread splits the bytes into lines on `\\n` and `\\r` (tqdm redraws with `\\r`) and
hands each batch of complete lines to `emit`, tagged with the prediction that is running.
`drain()` returns once everything written so far has been handed over, so a prediction's logs
all arrive before its Done.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import sys
import termios
import threading
from collections.abc import Callable

Emit = Callable[[str | None, str], None]

_LINE_END = re.compile(r"\r\n|\r|\n")
_READ_SIZE = 1 << 16


def normalize(text: str) -> str:
    """Split text into lines on `\\n`, `\\r\\n` and `\\r`, each ending in `\\n` (a bare `\\r`
    that ends nothing, as tqdm writes before each redraw, is dropped)."""
    lines = []
    start = 0
    for match in _LINE_END.finditer(text):
        line = text[start : match.start()]
        if line or match.group() != "\r":
            lines.append(line + "\n")
        start = match.end()
    rest = text[start:]
    return "".join(lines) + (rest + "\n" if rest else "")


class FdCapture:
    def __init__(self, emit: Emit, read_fd: int | None = None) -> None:
        """`read_fd`: the read end of the pipe fds 1 and 2 already write to; without it,
        `start()` makes a pipe and points fds 1 and 2 at it."""
        self._emit = emit
        self._write_fd = -1
        if read_fd is None:
            read_fd, self._write_fd = os.pipe()
        self._read_fd = read_fd
        self._cond = threading.Condition()
        self._busy = False  # the reader holds bytes it has not emitted yet
        self._partial = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.current_id: str | None = None
        self._thread = threading.Thread(target=self._run, name="pier-log-capture", daemon=True)

    def start(self) -> None:
        """Start forwarding (first pointing fds 1 and 2 at our own pipe, if we made one)."""
        if self._write_fd >= 0:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(self._write_fd, 1)
            os.dup2(self._write_fd, 2)
            os.close(self._write_fd)
        os.set_inheritable(self._read_fd, False)
        self._thread.start()

    # -- reader thread ------------------------------------------------------------------------
    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._read_fd, select.POLLIN)
        while True:
            poller.poll()
            with self._cond:
                self._busy = True
            try:
                chunk = os.read(self._read_fd, _READ_SIZE)
            except OSError:
                chunk = b""
            with self._cond:
                if chunk:
                    self._take(chunk)
                self._busy = False
                self._cond.notify_all()
            if not chunk:
                return

    def _take(self, chunk: bytes) -> None:
        text = self._partial + self._decoder.decode(chunk)
        hold = ""
        if text.endswith("\r"):  # might be the first half of "\r\n"
            text, hold = text[:-1], "\r"
        lines: list[str] = []
        start = 0
        for match in _LINE_END.finditer(text):
            line = text[start : match.start()]
            if line or match.group() != "\r":
                lines.append(line + "\n")
            start = match.end()
        self._partial = text[start:] + hold
        if lines:
            self._send("".join(lines))

    def _send(self, text: str) -> None:
        try:
            self._emit(self.current_id, text)
        except Exception:  # noqa: BLE001 - the log path must never take the process down
            pass

    # -- main thread --------------------------------------------------------------------------
    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until all bytes written so far are emitted; a trailing partial line is emitted
        with a newline. Cheap when nothing was written. False if the reader fell behind."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        with self._cond:
            ok = self._cond.wait_for(lambda: not self._busy and self._pending() == 0, timeout)
            partial, self._partial = self._partial.rstrip("\r"), ""
            if partial:
                self._send(partial + "\n")
        return ok

    def _pending(self) -> int:
        buf = bytearray(4)
        try:
            fcntl.ioctl(self._read_fd, termios.FIONREAD, buf)
        except OSError:
            return 0
        return int.from_bytes(buf, sys.byteorder)
