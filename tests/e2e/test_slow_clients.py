"""Slow and idle clients against the real `pier serve`: unfinished requests and idle connections
are closed in time, and connections beyond the cap are answered instead of left hanging."""

from __future__ import annotations

import json
import resource
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@contextmanager
def raw_connection(server: Server) -> Iterator[socket.socket]:
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=10)
    try:
        yield sock
    finally:
        sock.close()


def seconds_until_closed(sock: socket.socket, limit: float) -> float:
    """Read until the server closes the connection; how long that took (fails after `limit`)."""
    started = time.monotonic()
    while True:
        left = limit - (time.monotonic() - started)
        assert left > 0, f"the server kept the connection open for {limit} s"
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            data = b""
        if not data:
            return time.monotonic() - started


def test_unfinished_headers_silence_and_idle_keepalive_are_closed(
    server_factory: type[Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIER_HEADER_TIMEOUT", "1")
    monkeypatch.setenv("PIER_KEEPALIVE_TIMEOUT", "1")
    server = server_factory(tmp_path / "data").start("--no-builtin-models")

    # Half a request: the request line and one header, never the blank line that ends them.
    with raw_connection(server) as half, raw_connection(server) as silent:
        half.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert 0.5 < seconds_until_closed(half, limit=10) < 10
        # A connection that sends nothing at all is closed the same way.
        assert seconds_until_closed(silent, limit=10) < 10

    # A kept-alive connection gets its answer, then is closed once it stays idle ...
    with raw_connection(server) as idle:
        idle.sendall(b"GET /v1/hardware HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        assert seconds_until_closed(idle, limit=10) < 10

    # ... and its second request has the same deadline for its headers as the first.
    with raw_connection(server) as second:
        second.sendall(b"GET /v1/hardware HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/hardware HTTP/1.1\r\n")
        assert second.recv(65536).startswith(b"HTTP/1.1 200")
        assert seconds_until_closed(second, limit=10) < 10

    # A body that stops arriving halfway is dropped too ...
    with raw_connection(server) as stalled:
        stalled.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"code": '
        )
        assert 0.5 < seconds_until_closed(stalled, limit=10) < 10

    # ... but one that keeps moving may take longer than the timeout in all.
    code = server.login_link.split("code=", 1)[1]
    body = json.dumps({"code": code}).encode()
    with raw_connection(server) as steady:
        steady.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        started = time.monotonic()
        for i in range(0, len(body), 8):
            steady.sendall(body[i : i + 8])
            time.sleep(0.2)  # the client's pace: pauses well under the timeout
        assert time.monotonic() - started > 1
        assert steady.recv(65536).startswith(b"HTTP/1.1 200")

    # Requests sent at a normal pace are unaffected.
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/hardware").status_code == 200


def test_connections_beyond_the_cap_are_answered_not_left_hanging(
    server_factory: type[Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIER_MAX_CONNECTIONS", "4")
    monkeypatch.setenv("PIER_HEADER_TIMEOUT", "60")
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    headers = {"Authorization": f"Bearer {server.token}"}

    with ExitStack() as stack:
        for _ in range(10):  # more slow clients than the server serves at once
            sock = stack.enter_context(raw_connection(server))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            busy = client.get("/v1/account")
        assert busy.status_code == 503
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.headers["connection"] == "close"
        assert busy.headers["retry-after"]
        assert busy.json()["status"] == 503
        assert busy.headers["x-content-type-options"] == "nosniff"

    # Once the slow clients are gone, requests are served again.
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        while (response := client.get("/v1/account")).status_code != 200:
            assert response.status_code == 503
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.05)


def test_open_file_limit_is_raised_as_far_as_allowed(
    server_factory: type[Server], tmp_path: Path
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = 256 if hard == resource.RLIM_INFINITY else min(256, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))  # the server inherits this
    try:
        server = server_factory(tmp_path / "data").start("--no-builtin-models")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert server.process is not None
    limits = Path(f"/proc/{server.process.pid}/limits")
    if not limits.exists():
        pytest.skip("no /proc on this system")
    line = next(row for row in limits.read_text().splitlines() if row.startswith("Max open files"))
    now_soft, now_hard = line.split()[3:5]
    assert now_hard == ("unlimited" if hard == resource.RLIM_INFINITY else str(hard))
    if hard != low:
        assert int(now_soft) > low
        assert f"raised the open-file limit from {low}" in "".join(server.output)
