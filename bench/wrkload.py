"""Concurrent load with wrk (Debian's `wrk` package), which spends far less CPU per request than
any Python client, so on a small machine the figures measure the server. Without wrk on PATH the
repo's raw-socket client (httpload.py) stands in, and the summary says which one ran.

The POST body and headers go in through a Lua script; wrk's `done` hook prints one line of
totals and latency percentiles that `run` reads back.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from httpload import build_request, load

SCRIPT = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKSUMMARY %d %d %d %d %.1f %.1f\\n", summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Summary:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self, label: str) -> str:
        return (
            f"{label:<34} p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  "
            f"{self.rate:8.0f} req/s  errors {self.errors}  ({self.tool})"
        )


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _lua(body: bytes, headers: dict[str, str]) -> str:
    text = body.decode()
    if "]==]" in text:
        raise ValueError("the body cannot be quoted for Lua")
    lines = ['wrk.headers["Content-Type"] = "application/json"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    return SCRIPT.format(body=text, headers="\n".join(lines))


def run_wrk(
    port: int, path: str, body: bytes, headers: dict[str, str], connections: int, seconds: float
) -> Summary:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "post.lua")
        script.write_text(_lua(body, headers))
        command = [
            "wrk",
            "-t1",  # one thread drives 16 connections with CPU to spare
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",  # whole seconds only
            "--timeout",
            "60s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("WRKSUMMARY "):
            count, micros, status, socket_errors, p50, p99 = line.split()[1:]
            return Summary(
                int(count),
                int(micros) / 1e6,
                float(p50) / 1000,
                float(p99) / 1000,
                int(status) + int(socket_errors),
                "wrk",
            )
    raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")


def run_sockets(
    port: int, path: str, body: bytes, headers: dict[str, str], connections: int, requests: int
) -> Summary:
    request = build_request("127.0.0.1", port, path, body, headers)
    result = asyncio.run(load("127.0.0.1", port, request, requests, connections))
    return Summary(
        len(result.latencies),
        result.seconds,
        result.pct(0.5),
        result.pct(0.99),
        result.errors,
        "raw-socket client",
    )


def concurrent(
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    fallback_requests: int,
) -> Summary:
    """A short warm-up, then the measured run: wrk for `seconds`, or without wrk the raw-socket
    client for `fallback_requests` requests."""
    if have_wrk():
        run_wrk(port, path, body, headers, connections, max(1.0, seconds / 5))
        return run_wrk(port, path, body, headers, connections, seconds)
    run_sockets(port, path, body, headers, connections, max(connections, fallback_requests // 10))
    return run_sockets(port, path, body, headers, connections, fallback_requests)
