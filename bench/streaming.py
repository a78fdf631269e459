"""Streaming latency and fan-out: a token yielded inside `predict` until an SSE client reads it.

A real `pier serve` runs bench/stream_tokens, which yields numbered tokens stamped with the
wall clock at the moment of the yield; a stream reader (a raw socket, no client library in the
way) notes when each token arrives. In one run, for the same model and token count:
  0 readers    the model's own tokens/s with nobody streaming (from the stored output)
  1 reader     that, plus the yield-to-read latency per token
  N readers    N concurrent readers of one prediction (default 100): one timed as above, the
               others drain the stream and are checked to get every token
Prints tokens/s, latency p50/p90/p99 and the ratios; targets: p50 <= 5 ms with one reader and
the model's tokens/s with N readers within 10% of one reader.
Run: python bench/streaming.py [--tokens 1000] [--interval 0.002] [--readers 100] [--rounds 3]
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


async def open_stream(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
    parts = urllib.parse.urlsplit(url)
    stream, writer = await asyncio.open_connection(parts.hostname, parts.port)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n\r\n"
    )
    writer.write(request.encode())
    head = await stream.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return stream, writer, b"transfer-encoding: chunked" in head.lower()


async def read_stream(url: str, into: Reader, connected: asyncio.Event) -> None:
    """Parses every event and notes when each token arrived."""
    stream, writer, chunked = await open_stream(url)
    connected.set()
    buffer = b""
    try:
        async for chunk in _body_chunks(stream, chunked):
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


async def drain_stream(url: str, connected: asyncio.Event) -> int:
    """Reads the whole stream as cheaply as possible; returns the number of output events."""
    stream, writer, chunked = await open_stream(url)
    connected.set()
    body = bytearray()
    try:
        async for chunk in _body_chunks(stream, chunked):
            body += chunk
            if b"event: done" in body[-200:]:
                break
    finally:
        writer.close()
    return body.count(b"event: output")


def model_rate(stamps: list[int]) -> float:
    """Tokens per second as the model yielded them (first to last stamp)."""
    return (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9)


async def one_run(
    http: httpx.AsyncClient, readers: int, tokens: int, interval: float
) -> tuple[float, list[float], float]:
    """(model tokens/s, the timed reader's latencies in ms and its tokens/s)."""
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
    # One reader parses every event and notes its arrival; the others only drain the stream,
    # so that this process measures the server rather than its own parsing.
    timed = Reader()
    connected = [asyncio.Event() for _ in range(readers)]
    url = prediction["urls"]["stream"]
    first = asyncio.create_task(read_stream(url, timed, connected[0]))
    others = [asyncio.create_task(drain_stream(url, c)) for c in connected[1:]]
    await asyncio.gather(*(c.wait() for c in connected))
    await first
    counts = await asyncio.gather(*others)
    assert len(timed.yielded) == tokens, f"the timed reader got {len(timed.yielded)} of {tokens}"
    assert all(count == tokens for count in counts), f"a reader got fewer than {tokens}: {counts}"
    return model_rate(timed.yielded), timed.latencies_ms(), model_rate(timed.read)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_pier(data: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PIER_ADMIN_TOKEN=TOKEN, PIER_LOG_LEVEL="warning")
    add = ["models", "add", str(HERE / "stream_tokens"), "--name", MODEL, "--data-dir", str(data)]
    done = subprocess.run([sys.executable, "-m", "pier.cli.main", *add], capture_output=True)
    if done.returncode:
        raise RuntimeError(f"pier models add failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    serve = ["serve", "--port", "0", "--data-dir", str(data), "--no-builtin-models"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pier.cli.main", *serve], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Pier is running at "):
            return process, line.split()[-1]
    raise RuntimeError("pier serve did not start")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    model_rate: float  # tokens/s as the model yielded them
    latencies: list[float]  # the timed reader's yield-to-read times, ms
    reader_rate: float  # tokens/s as the timed reader read them
    server_cpu: float  # CPU ms the server process spent per token


async def bench(url: str, pid: int, args: argparse.Namespace) -> dict[int, list[Run]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    results: dict[int, list[Run]] = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        await one_run(http, 1, 20, 0.0)  # boots the model process
        for _ in range(args.rounds):
            for readers in (0, 1, args.readers):
                before = cpu_seconds(pid)
                rate, latencies, reader_rate = await one_run(
                    http, readers, args.tokens, args.interval
                )
                cpu = (cpu_seconds(pid) - before) * 1000 / args.tokens
                results.setdefault(readers, []).append(Run(rate, latencies, reader_rate, cpu))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=0.002, help="model seconds per token")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_pier(Path(tmp))
        try:
            results = asyncio.run(bench(url, process.pid, args))
        finally:
            process.terminate()
            process.wait()

    rates = {n: statistics.median(run.model_rate for run in runs) for n, runs in results.items()}
    print(
        f"{args.tokens} tokens, one every {args.interval * 1000:g} ms, {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; medians over rounds"
    )
    print(
        f"{'readers':>8} {'model tok/s':>12} {'vs 0':>6} {'server CPU ms/token':>20} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'reader tok/s':>13}"
    )
    for n, runs in results.items():
        cpu = statistics.median(run.server_cpu for run in runs)
        line = f"{n:>8} {rates[n]:>12.0f} {rates[n] / rates[0]:>6.3f} {cpu:>20.3f}"
        latencies = [ms for run in runs for ms in run.latencies]
        if latencies:
            reader_rate = statistics.median(run.reader_rate for run in runs)
            line += f" {pct(latencies, 0.5):>8.2f} {pct(latencies, 0.9):>8.2f}"
            line += f" {pct(latencies, 0.99):>8.2f} {reader_rate:>13.0f}"
        print(line)
    p50 = pct([ms for run in results[1] for ms in run.latencies], 0.5)
    ratio = rates[args.readers] / rates[1]
    print(f"yield-to-read latency p50, one reader: {p50:.2f} ms (target <= 5 ms)")
    print(f"model tokens/s, {args.readers} readers vs 1: {ratio:.3f} (target >= 0.90)")
    print(f"targets: {'met' if p50 <= 5 and ratio >= 0.9 else 'NOT met'}")


if __name__ == "__main__":
    main()
