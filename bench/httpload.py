"""A minimal keep-alive HTTP/1.1 load client over raw asyncio streams.

It spends as little CPU as possible per request, so on a 2-core machine the numbers measure the
server rather than the client. Each connection sends one request at a time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass
class Result:
    latencies: list[float]
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self, label: str) -> str:
        return (
            f"{label:<34} p50 {self.pct(0.5):6.2f} ms  p99 {self.pct(0.99):6.2f} ms  "
            f"{self.rate:8.0f} req/s  errors {self.errors}"
        )


def build_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Length: {len(body)}",
        "Content-Type: application/json",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _connection(
    host: str, port: int, request: bytes, count: int, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                errors.append(status)
    finally:
        writer.close()


async def load(host: str, port: int, request: bytes, total: int, concurrency: int) -> Result:
    latencies: list[float] = []
    errors: list[int] = []
    per = total // concurrency
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(host, port, request, per, latencies, errors) for _ in range(concurrency))
    )
    return Result(latencies, time.perf_counter() - started, len(errors))


def median(values: list[float]) -> float:
    return statistics.median(values)
