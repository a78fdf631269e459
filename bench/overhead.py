"""Pier's per-prediction overhead: a no-op predictor through the whole API, with persistence.

In one run, against the same no-op predictor:
  floor   a bare endpoint on the same HTTP stack (uvicorn + Starlette) returning the same JSON
  pier    `POST /v1/models/bench/noop/predictions` with `Prefer: wait` (auth, validation,
          SQLite writes, queue, model process round trip), sequential and 16 concurrent
  direct  the predictor called in-process
Prints p50, p99, predictions/s and the ratios. Run: python bench/overhead.py [--requests N]
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

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token"
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


def start_pier(data: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PIER_ADMIN_TOKEN=TOKEN, PIER_LOG_LEVEL="warning")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pier.cli.main",
            "models",
            "add",
            str(HERE / "noop"),
            "--name",
            "bench/noop",
            "--data-dir",
            str(data),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pier.cli.main",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--no-builtin-models",
            "--workers-per-version",
            str(workers),
        ],
        env=env,
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
    body = json.dumps({"input": {"text": "x"}}).encode()
    request = build_request(
        "127.0.0.1",
        port,
        "/v1/models/bench/noop/predictions",
        body,
        {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait"},
    )
    await load("127.0.0.1", port, request, warmup, min(concurrency, 4))
    return await load("127.0.0.1", port, request, requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    n = args.requests

    sample = httpx.Response(201)  # the floor returns a prediction-sized JSON body
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        pier = start_pier(Path(tmp) / "seq", port, workers=1)
        try:
            seq = asyncio.run(measure(port, n, 1))
            sample_body = httpx.post(
                f"http://127.0.0.1:{port}/v1/models/bench/noop/predictions",
                json={"input": {"text": "x"}},
                headers={"Authorization": f"Bearer {TOKEN}", "Prefer": "wait"},
            ).text
        finally:
            pier.terminate()
            pier.wait()
        port2 = free_port()
        pier2 = start_pier(Path(tmp) / "conc", port2, workers=2)
        try:
            conc = asyncio.run(measure(port2, n, 16))
        finally:
            pier2.terminate()
            pier2.wait()
        del sample
        port3 = free_port()
        floor = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port3), sample_body])
        try:
            wait_http(f"http://127.0.0.1:{port3}/")
            floor_seq = asyncio.run(measure(port3, n, 1))
            floor_conc = asyncio.run(measure(port3, n, 16))
        finally:
            floor.terminate()
            floor.wait()
    direct_p50, direct_rate = direct(n)

    print(f"no-op predictor, {n} requests each, {os.cpu_count()} CPUs")
    print(floor_seq.line("floor (bare endpoint), sequential"))
    print(seq.line("pier, sequential, Prefer: wait"))
    print(floor_conc.line("floor, 16 concurrent"))
    print(conc.line("pier, 16 concurrent, 2 workers"))
    print(f"{'direct in-process call':<34} p50 {direct_p50:6.4f} ms  {direct_rate:8.0f} calls/s")
    print(f"ratio pier/floor p50 (sequential): {seq.pct(0.5) / floor_seq.pct(0.5):.2f}x")
    print(f"ratio pier/floor throughput (16 concurrent): {conc.rate / floor_conc.rate:.2f}")
    print(f"pier overhead over direct call, p50: {seq.pct(0.5) - direct_p50:.2f} ms")
    ok = seq.pct(0.5) <= 2.0 and seq.rate >= 500 and conc.rate >= 1000
    print(
        f"targets (p50 <= 2 ms, >= 500/s sequential, >= 1000/s concurrent): "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
