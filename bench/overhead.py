"""Pier's per-prediction overhead: a no-op predictor through the whole API, with persistence.

In one run, against the same no-op predictor:
  floor   a bare endpoint on the same HTTP stack (uvicorn + Starlette) returning the same JSON
  pier    `POST /v1/models/bench/noop/predictions` with `Prefer: wait` (auth, validation,
          SQLite writes, queue, model process round trip), sequential and 16 concurrent
  direct  the predictor called in-process
Sequential requests come from the raw-socket client (httpload.py), one connection; the 16
concurrent connections from wrk (wrkload.py), or the raw-socket client where wrk is missing.
Prints p50, p99, predictions/s and the ratios.
Run: python bench/overhead.py [--requests N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import build_request, load  # noqa: E402
from wrkload import Summary, concurrent  # noqa: E402

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token"
PATH = "/v1/models/bench/noop/predictions"
BODY = json.dumps({"input": {"text": "x"}}).encode()
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait"}
FLOOR_APP = """
import json, sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
body = sys.argv[2]
async def endpoint(request):
    await request.body()
    return Response(body, status_code=201, media_type="application/json")
app = Starlette(routes=[Route("/v1/models/bench/noop/predictions", endpoint, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def pier_env(**settings: str) -> dict[str, str]:
    env = dict(os.environ, PIER_ADMIN_TOKEN=TOKEN, PIER_LOG_LEVEL="warning")
    # One account sends every request: a create rate no run reaches, so the limiter is
    # measured at work without refusing anything.
    env["PIER_CREATE_RATE_PER_MINUTE"] = str(10**9)
    env.update({f"PIER_{name.upper()}": value for name, value in settings.items()})
    return env


def add_model(data: Path, model_dir: Path, name: str, **settings: str) -> None:
    command = ["models", "add", str(model_dir), "--name", name, "--data-dir", str(data)]
    subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *command],
        check=True,
        env=pier_env(**settings),
        capture_output=True,
    )


def start_pier(data: Path, port: int, workers: int, **settings: str) -> subprocess.Popen[bytes]:
    """`pier serve` with the no-op model; `settings` (database, queue, files, ...) go in as
    PIER_* variables."""
    add_model(data, HERE / "noop", "bench/noop", **settings)
    command = ["serve", "--port", str(port), "--data-dir", str(data), "--no-builtin-models"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pier.cli.main", *command, "--workers", str(workers)],
        env=pier_env(**settings),
        stdout=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/v1/account")
    return process


def direct(count: int) -> tuple[float, float]:
    sys.path.insert(0, str(HERE / "noop"))
    sys.path.insert(0, str(HERE.parent / "pier" / "_shim"))
    from predict import Predictor  # type: ignore[import-not-found]

    predictor = Predictor()
    predictor.setup()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        predictor.predict(text="x")
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1000, count / sum(times)


async def measure(port: int, requests: int, concurrency: int, warmup: int = 200):  # type: ignore[no-untyped-def]
    request = build_request("127.0.0.1", port, PATH, BODY, HEADERS)
    await load("127.0.0.1", port, request, warmup, min(concurrency, 4))
    return await load("127.0.0.1", port, request, requests, concurrency)


def measure_concurrent(port: int, seconds: float, requests: int) -> Summary:
    return concurrent(port, PATH, BODY, HEADERS, 16, seconds, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests")
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
    args = parser.parse_args()
    n = args.requests

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        pier = start_pier(Path(tmp) / "seq", port, workers=1)
        try:
            seq = asyncio.run(measure(port, n, 1))
            # the floor returns a prediction-sized JSON body
            sample_body = httpx.post(
                f"http://127.0.0.1:{port}{PATH}", content=BODY, headers=HEADERS
            ).text
        finally:
            pier.terminate()
            pier.wait()
        port2 = free_port()
        pier2 = start_pier(Path(tmp) / "conc", port2, workers=2)
        try:
            conc = measure_concurrent(port2, args.seconds, n)
        finally:
            pier2.terminate()
            pier2.wait()
        port3 = free_port()
        floor = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port3), sample_body])
        try:
            wait_http(f"http://127.0.0.1:{port3}/")
            floor_seq = asyncio.run(measure(port3, n, 1))
            floor_conc = measure_concurrent(port3, args.seconds, n)
        finally:
            floor.terminate()
            floor.wait()
    direct_p50, direct_rate = direct(n)

    print(
        f"no-op predictor: {n} sequential requests; 16 connections for {args.seconds:.0f} s; "
        f"{os.cpu_count()} CPUs"
    )
    print(floor_seq.line("floor (bare endpoint), sequential"))
    print(seq.line("pier, sequential, Prefer: wait"))
    print(floor_conc.line("floor, 16 concurrent"))
    print(conc.line("pier, 16 concurrent, 2 workers"))
    print(f"{'direct in-process call':<34} p50 {direct_p50:6.4f} ms  {direct_rate:8.0f} calls/s")
    print(f"ratio pier/floor p50 (sequential): {seq.pct(0.5) / floor_seq.pct(0.5):.2f}x")
    print(f"ratio pier/floor throughput (16 concurrent): {conc.rate / floor_conc.rate:.2f}")
    print(f"pier overhead over direct call, p50: {seq.pct(0.5) - direct_p50:.2f} ms")
    ok = seq.pct(0.5) <= 1.5 and seq.rate >= 600 and conc.rate >= 1000
    print(
        f"targets (p50 <= 1.5 ms, >= 600/s sequential, >= 1000/s concurrent): "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
