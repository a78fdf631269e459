"""A small HTTP file server for weights tests: Range and If-Range, ETags, optional digest
headers, and ways to misbehave (cut a response short, send slowly)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CHUNK = 16 * 1024


@dataclass
class Served:
    data: bytes
    cut_after: int | None = None  # the next response stops after this many bytes of body
    delay: float = 0.0  # seconds between chunks
    digest: str | None = None  # a Repr-Digest header value to send, if any


@dataclass
class FileServer:
    server: ThreadingHTTPServer
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    sent: int = 0  # body bytes sent, all responses together

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def add(self, path: str, data: bytes, **options: object) -> str:
        self.files[path] = Served(data, **options)  # type: ignore[arg-type]
        return self.url(path)


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            state.requests.append((self.path, self.headers.get("Range")))
            served = state.files.get(self.path)
            if served is None:
                self.send_error(404)
                return
            data = served.data
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            start, status = 0, 200
            wanted = self.headers.get("Range", "")
            if wanted.startswith("bytes=") and self.headers.get("If-Range") in (None, etag):
                start = int(wanted[6:].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            if served.digest:
                self.send_header("Repr-Digest", served.digest)
            self.end_headers()
            body = data[start:]
            if served.cut_after is not None:
                body, served.cut_after = body[: served.cut_after], None
                self.close_connection = True
            for offset in range(0, len(body), CHUNK):
                try:
                    self.wfile.write(body[offset : offset + CHUNK])
                    self.wfile.flush()
                except OSError:
                    return
                state.sent += len(body[offset : offset + CHUNK])
                if served.delay:
                    time.sleep(served.delay)

    return Handler


def sha256_digest_header(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = FileServer(server)
    server.RequestHandlerClass = _handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
