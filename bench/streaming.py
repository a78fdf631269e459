"""Streaming latency and fan-out: a token yielded inside `predict` until an SSE client reads it.

A real `pier serve` runs bench/stream_tokens, which yields numbered tokens stamped with the
wall clock at the moment of the yield; stream readers (raw sockets, no client library in the
way) note when each token arrives. In one run, for the same model and token count:
  0 readers    the model's own tokens/s with nobody streaming (from the stored output)
  1 reader     that, plus the yield-to-read latency per token
  N readers    N concurrent readers of one prediction (default 100)
Prints tokens/s, latency p50/p90/p99 and the ratios; targets: p50 <= 5 ms with one reader and
the model's tokens/s with N readers within 10% of one reader.
Run: python bench/streaming.py [--tokens 1000] [--interval 0.002] [--readers 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token"
MODEL = "bench/stream-tokens"


@dataclass
class Reader:
    """One stream reader: when each token was yielded and when it was read (ns)."""

    yielded: list[int] = field(default_factory=list)
    read: list[int] = field(default_factory=list)

    def latencies_ms(self) -> list[float]:
        return [(r - y) / 1e6 for y, r in zip(self.yielded, self.read, strict=True)]


async def _body_chunks(reader: asyncio.StreamReader, chunked: bool):  # type: ignore[no-untyped-def]
    while True:
        if not chunked:
            data = await reader.read(1 << 16)
            if not data:
                return
            yield data
            continue
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            return
        yield (await reader.readexactly(size + 2))[:-2]


async def read_stream(url: str, into: Reader, connected: asyncio.Event | None = None) -> None:
    parts = urllib.parse.urlsplit(url)
    stream, writer = await asyncio.open_connection(parts.hostname, parts.port)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n\r\n"
    )
    writer.write(request.encode())
    head = await stream.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if connected is not None:
        connected.set()
    buffer = b""
    try:
        async for chunk in _body_chunks(stream, b"transfer-encoding: chunked" in head.lower()):
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                now = time.time_ns()
                lines = block.split(b"\n")
                if b"event: done" in lines:
                    return
                if b"event: output" in lines:
                    data = next(x for x in lines if x.startswith(b"data: "))[6:]
                    into.yielded.append(int(data.split(b":")[1]))
                    into.read.append(now)
    finally:
        writer.close()


def model_rate(stamps: list[int]) -> float:
    """Tokens per second as the model yielded them (first to last stamp)."""
    return (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9)


async def one_run(
    http: httpx.AsyncClient, readers: int, tokens: int, interval: float
) -> tuple[float, list[float], float]:
    """(model tokens/s, every reader's latencies in ms, slowest reader's tokens/s)."""
    # With readers, the model waits a moment first so that all of them are reading live.
    wait_first = 0.0 if readers == 0 else 0.5 + readers * 0.01
    created = await http.post(
        f"/v1/models/{MODEL}/predictions",
        json={"input": {"tokens": tokens, "interval": interval, "wait_first": wait_first}},
    )
    prediction = created.json()
    if readers == 0:
        while prediction["status"] not in ("succeeded", "failed", "canceled"):
            await asyncio.sleep(0.05)
            prediction = (await http.get(f"/v1/predictions/{prediction['id']}")).json()
        assert prediction["status"] == "succeeded", prediction
        return model_rate([int(t.split(":")[1]) for t in prediction["output"]]), [], 0.0
    found = [Reader() for _ in range(readers)]
    connected = [asyncio.Event() for _ in range(readers)]
    tasks = [
        asyncio.create_task(read_stream(prediction["urls"]["stream"], r, c))
        for r, c in zip(found, connected, strict=True)
    ]
    await asyncio.gather(*(c.wait() for c in connected))
    await asyncio.gather(*tasks)
    for reader in found:
        assert len(reader.yielded) == tokens, f"a reader got {len(reader.yielded)} of {tokens}"
    latencies = [ms for reader in found for ms in reader.latencies_ms()]
    slowest = min(model_rate(reader.read) for reader in found)
    return model_rate(found[0].yielded), latencies, slowest


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_pier(data: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PIER_ADMIN_TOKEN=TOKEN, PIER_LOG_LEVEL="warning")
    add = ["models", "add", str(HERE / "stream_tokens"), "--name", MODEL, "--data-dir", str(data)]
    subprocess.run([sys.executable, "-m", "pier.cli.main", *add], check=True, capture_output=True)
    serve = ["serve", "--port", "0", "--data-dir", str(data), "--no-builtin-models"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pier.cli.main", *serve], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Pier is running at "):
            return process, line.split()[-1]
    raise RuntimeError("pier serve did not start")


async def bench(
    url: str, args: argparse.Namespace
) -> dict[int, list[tuple[float, list[float], float]]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    results: dict[int, list[tuple[float, list[float], float]]] = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        await one_run(http, 1, 20, 0.0)  # boots the model process
        for _ in range(args.rounds):
            for readers in (0, 1, args.readers):
                run = await one_run(http, readers, args.tokens, args.interval)
                results.setdefault(readers, []).append(run)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.002, help="model seconds per token")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_pier(Path(tmp))
        try:
            results = asyncio.run(bench(url, args))
        finally:
            process.terminate()
            process.wait()

    rates = {n: statistics.median(run[0] for run in runs) for n, runs in results.items()}
    print(
        f"{args.tokens} tokens, one every {args.interval * 1000:g} ms, {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs; model tokens/s is the median over rounds"
    )
    print(
        f"{'readers':>8} {'model tok/s':>12} {'vs 0':>6} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'p99 ms':>8} {'slowest reader tok/s':>21}"
    )
    for n, runs in results.items():
        latencies = [ms for run in runs for ms in run[1]]
        line = f"{n:>8} {rates[n]:>12.0f} {rates[n] / rates[0]:>6.3f}"
        if latencies:
            slowest = min(run[2] for run in runs)
            line += f" {pct(latencies, 0.5):>8.2f} {pct(latencies, 0.9):>8.2f}"
            line += f" {pct(latencies, 0.99):>8.2f} {slowest:>21.0f}"
        print(line)
    p50 = pct([ms for run in results[1] for ms in run[1]], 0.5)
    ratio = rates[args.readers] / rates[1]
    print(f"yield-to-read latency p50, one reader: {p50:.2f} ms (target <= 5 ms)")
    print(f"model tokens/s, {args.readers} readers vs 1: {ratio:.3f} (target >= 0.90)")
    print(f"targets: {'met' if p50 <= 5 and ratio >= 0.9 else 'NOT met'}")


if __name__ == "__main__":
    main()
