"""Errors never break a kept-alive connection to the real `pier serve`.

The official clients pool connections: a server that answers an error and then drops the
connection makes their next call fail. Each request here goes over one socket, in turn.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


class Connection:
    """One HTTP/1.1 connection, one request at a time, nothing reconnected behind our back."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname and parts.port
        # `pier serve` announces itself during startup, a moment before it accepts connections
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "pier serve never accepted a connection"
                time.sleep(0.05)
        self.reader = self.sock.makefile("rb")

    def request(
        self, method: str, path: str, token: str | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        head = [f"{method} {path} HTTP/1.1", "Host: pier", f"Content-Length: {len(body)}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body:
            head.append("Content-Type: application/json")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        headers = {}
        while (line := self.reader.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, self.reader.read(int(headers["content-length"]))

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def test_errors_leave_the_connection_usable(server_factory: type[Server], tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    conn = Connection(server.url)
    try:
        deep = b'{"code": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        status, headers, body = conn.request("POST", "/auth/login", body=deep)
        assert status == 400 and headers["content-type"] == "application/problem+json"
        assert conn.request("GET", "/v1/account", server.token)[0] == 200

        # The database loses a table under the running server: a real unexpected error.
        with sqlite3.connect(server.data_dir / "pier.db") as db:
            db.execute("DROP TABLE models")
        status, headers, body = conn.request("GET", "/v1/models", server.token)
        assert status == 500 and headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 500
        assert headers.get("connection") != "close"

        # the same connection carries the next request
        status, _, body = conn.request("GET", "/v1/account", server.token)
        assert status == 200 and json.loads(body)["username"]
    finally:
        conn.close()

    # The error was logged once, as Pier's own; the server never saw an exception escape.
    deadline = time.monotonic() + 10
    while not any("unexpected error on GET /v1/models" in line for line in server.output):
        assert time.monotonic() < deadline, "".join(server.output)
        time.sleep(0.05)
    assert not any("Exception in ASGI application" in line for line in server.output)
