"""How the HTTP server treats connections: header and idle timeouts, a connection cap, and the
open-file limit.

uvicorn closes a kept-alive connection that stays idle, but a connection that never finishes
its request line and headers (or sends nothing at all) is kept forever; enough of them use up
the process's file descriptors and every other request fails. `GuardedHttpProtocol` gives each
request `header_timeout` seconds, from the connection's start (or the request's first byte on a
kept-alive connection) to the end of its headers, and as long again for any pause in the middle
of a body; it answers connections beyond the cap with a 503 as soon as their headers arrive, so a
normal client always gets an answer. Connections are also kept below the open-file limit, which
`raise_fd_limit` lifts as far as the system allows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pier.api.security import SecurityHeadersMiddleware
from pier.settings import Settings

log = logging.getLogger(__name__)

# File descriptors kept free for everything that is not a client connection: the database,
# model processes' pipes and sockets, uploaded files being written, log files.
RESERVED_FDS = 128
# Where the hard limit is "unlimited", the soft one is raised this far.
MAX_OPEN_FILES = 1 << 20


async def _overloaded(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps(
        {
            "title": "Service unavailable",
            "detail": "Pier has as many open connections as it accepts. Try again shortly.",
            "status": 503,
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection cap.

    Use `protocol_for(settings)`, which sets the class attributes below.
    """

    header_timeout: float = 15.0
    keepalive_timeout: float = 5.0
    max_connections: int = 1000
    max_open: int | None = None  # beyond this many, a new connection is closed at once
    overloaded_app: Any = SecurityHeadersMiddleware(_overloaded)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.keepalive_timeout  # type: ignore[assignment]
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body_check: asyncio.TimerHandle | None = None
        self._body_at = 0.0  # loop time the current request's body last moved

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.max_open is not None and len(self.connections) > self.max_open:
            transport.close()  # nearly out of file descriptors: no room even for a 503
            return
        if len(self.connections) > self.max_connections:
            self.app = self.overloaded_app
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        self._stop_body_check()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_deadline is None:  # a kept-alive connection's next request
            self._start_header_clock()

    def on_headers_complete(self) -> None:
        self._stop_header_clock()
        super().on_headers_complete()
        self._stop_body_check()
        self._body_at = self.loop.time()
        self._body_check = self.loop.call_later(self.header_timeout, self._check_body)

    def on_body(self, body: bytes) -> None:
        self._body_at = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._stop_body_check()
        super().on_message_complete()

    def _check_body(self) -> None:
        """Close the connection if the client stopped sending a body it has not finished.

        Waiting does not count while Pier itself holds the client back: reading paused until
        the app takes what arrived, or `Expect: 100-continue` not answered yet."""
        self._body_check = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or cycle.response_complete:
            return
        now = self.loop.time()
        if self.flow.read_paused or getattr(cycle, "waiting_for_100_continue", False):
            self._body_at = now
        silent = now - self._body_at
        if silent >= self.header_timeout:
            log.debug("closing a connection whose request body stopped arriving: %s", self.client)
            self.transport.close()
            return
        self._body_check = self.loop.call_later(self.header_timeout - silent, self._check_body)

    def _stop_body_check(self) -> None:
        if self._body_check is not None:
            self._body_check.cancel()
            self._body_check = None

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_clock(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request started while an earlier response is still going out:
            # finish that response, then close.
            self.cycle.keep_alive = False
            return
        log.debug("closing a connection that did not send its headers in time: %s", self.client)
        self.transport.close()


def protocol_for(settings: Settings, open_files: int | None = None) -> type[HttpToolsProtocol]:
    """The protocol class `uvicorn.Config(http=...)` takes, with these settings' limits.

    `open_files`: the process's open-file limit, if known. Connections are capped below it
    (less what the rest of Pier needs), so clients alone can never use up the descriptors.
    """
    capacity = None if open_files is None else max(1, open_files - RESERVED_FDS)
    serve = (
        settings.max_connections if capacity is None else min(settings.max_connections, capacity)
    )
    if serve < settings.max_connections:
        log.warning(
            "the open-file limit (%s) leaves room for %d connections, not max_connections=%d",
            open_files,
            serve,
            settings.max_connections,
        )
    return type(
        "PierHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "header_timeout": settings.header_timeout,
            "keepalive_timeout": settings.keepalive_timeout,
            "max_connections": serve,
            "max_open": capacity,
        },
    )


def raise_fd_limit() -> int | None:
    """Raise the soft open-file limit to the hard one where the system allows it; the limit
    now in force (None: unlimited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d: %s", soft, exc)
        else:
            log.info("raised the open-file limit from %d to %d", soft, target)
            soft = target
    return None if soft == resource.RLIM_INFINITY else soft
