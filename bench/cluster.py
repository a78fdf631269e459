"""Pier spread out: an API process that runs no models, Redis, `pier worker` and PostgreSQL.

In one run, on this machine:
  embedded  `pier serve` alone (SQLite, in-process queue and model processes), the no-op
            predictor: sequential `Prefer: wait` and 16 connections
  cluster   the same predictor and the same requests through `pier serve --workers 0` → Redis →
            `pier worker` → PostgreSQL, printed beside the embedded figures with their ratio
  scaling   a predictor that sleeps 100 ms (bench/sleep100) with 1, 2, 4 and 8 worker slots
            (`pier worker --slots N`), 2N clients keeping them busy: throughput, and its ratio to
            linear (N times the 1-slot figure). The target is 90% of linear or more.

Redis is a private `redis-server` on a free port, stopped at the end; the database is a
throw-away one made on the PostgreSQL server (--postgres) and dropped at the end.
Run: python bench/cluster.py [--requests N] [--seconds S] [--postgres URL] [--slots 1,2,4,8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import Result, build_request, load  # noqa: E402
from overhead import (  # noqa: E402
    HEADERS,
    HERE,
    PATH,
    add_model,
    free_port,
    measure,
    measure_concurrent,
    pier_env,
    start_pier,
)
from wrkload import Summary  # noqa: E402

SLEEP_PATH = "/v1/models/bench/sleep100/predictions"
BODY = json.dumps({"input": {"text": "x"}}).encode()
SLOTS = 2  # model processes for the no-op runs, embedded and in the worker alike


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    name = f"pier_bench_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL at {server} does not answer ({exc}); start it or pass --postgres")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    """One API process (`--workers 0`) and the settings its workers share."""

    def __init__(self, root: Path, database: str, queue: str) -> None:
        self.root = root
        self.settings = {"database": database, "queue": queue, "files": str(root / "files")}
        self.port = free_port()
        self.settings["public_url"] = f"http://127.0.0.1:{self.port}"
        self.redis = redis.Redis.from_url(queue)
        api_data = root / "api"
        add_model(api_data, HERE / "sleep100", "bench/sleep100", **self.settings)
        self.api = start_pier(api_data, self.port, workers=0, **self.settings)

    def worker(self, slots: int, model: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"worker-{model.replace('/', '-')}-{slots}.log").open("wb")
        env = pier_env(**self.settings, data_dir=str(self.root / "worker"))
        command = ["worker", "--slots", str(slots), "--models", model]
        return subprocess.Popen(
            [sys.executable, "-m", "pier.cli.main", *command], env=env, stderr=log
        )

    def idle(self, timeout: float = 60) -> None:
        """Wait until nothing is queued or claimed (wrk leaves requests behind when it stops)."""
        deadline = time.monotonic() + timeout
        while self.redis.hlen("pier:job-entries"):
            if time.monotonic() > deadline:
                raise RuntimeError("jobs are still queued after a run")
            time.sleep(0.05)

    def close(self) -> None:
        self.api.terminate()
        self.api.wait()
        self.redis.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def first_prediction(port: int, path: str, timeout: float = 120) -> None:
    """One prediction to its end: the worker is up and a model process has booted."""
    headers = {**HEADERS, "Prefer": "wait=30"}
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        body = client.post(path, content=BODY, headers={"Content-Type": "application/json"}).json()
        while body["status"] not in ("succeeded", "failed", "canceled"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no worker ran {body['id']}")
            time.sleep(0.1)
            body = client.get(f"/v1/predictions/{body['id']}").json()
    if body["status"] != "succeeded":
        raise RuntimeError(f"the first prediction did not succeed: {body}")


def no_op_runs(port: int, requests: int, seconds: float) -> tuple[Result, Summary]:
    sequential = asyncio.run(measure(port, requests, 1))
    return sequential, measure_concurrent(port, seconds, requests)


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy (all cores, anyone's work); None off Linux."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def scaling_run(port: int, slots: int, seconds: float) -> tuple[Result, float | None]:
    """2N connections keep N slots busy; each sends the same number of requests. Returns the
    result and how many cores the machine kept busy meanwhile (is the CPU the limit?)."""
    connections = 2 * slots
    request = build_request("127.0.0.1", port, SLEEP_PATH, BODY, HEADERS)
    # every slot boots its model process before the clock starts
    asyncio.run(load("127.0.0.1", port, request, connections * 3, connections))
    per_connection = max(3, round(seconds * 10 * slots / connections))
    before = busy_seconds()
    result = asyncio.run(
        load("127.0.0.1", port, request, per_connection * connections, connections)
    )
    after = busy_seconds()
    cores = None if before is None or after is None else (after - before) / result.seconds
    return result, cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests")
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PIER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server to make the throw-away database on",
    )
    parser.add_argument("--slots", default="1,2,4,8", help="worker slots for the scaling runs")
    parser.add_argument("--skip-no-op", action="store_true", help="only the scaling runs")
    parser.add_argument(
        "--repeat", type=int, default=1, help="scaling runs per slot count; the best one counts"
    )
    args = parser.parse_args()
    n = args.requests
    slot_counts = [int(s) for s in args.slots.split(",")]

    with (
        tempfile.TemporaryDirectory() as tmp,
        private_redis() as queue,
        throwaway_database(args.postgres) as database,
    ):
        root = Path(tmp)
        if not args.skip_no_op:
            port = free_port()
            embedded = start_pier(root / "embedded", port, workers=SLOTS)
            try:
                emb_seq, emb_conc = no_op_runs(port, n, args.seconds)
            finally:
                stop(embedded)
        cluster = Cluster(root, database, queue)
        try:
            if not args.skip_no_op:
                worker = cluster.worker(SLOTS, "bench/noop")
                try:
                    first_prediction(cluster.port, PATH)
                    clu_seq, clu_conc = no_op_runs(cluster.port, n, args.seconds)
                    cluster.idle()
                finally:
                    stop(worker)
            scaling: dict[int, tuple[Result, float | None]] = {}
            for slots in slot_counts:
                worker = cluster.worker(slots, "bench/sleep100")
                try:
                    first_prediction(cluster.port, SLEEP_PATH)
                    repeats = range(max(1, args.repeat))
                    runs = [scaling_run(cluster.port, slots, args.seconds) for _ in repeats]
                    scaling[slots] = max(runs, key=lambda run: run[0].rate)
                    cluster.idle()
                finally:
                    stop(worker)
        finally:
            cluster.close()

    print(f"{os.cpu_count()} CPUs")
    if not args.skip_no_op:
        print(f"no-op predictor: {n} sequential requests; 16 connections for {args.seconds:.0f} s")
        print(emb_seq.line("embedded, sequential"))
        print(clu_seq.line("cluster, sequential"))
        print(emb_conc.line("embedded, 16 connections"))
        print(clu_conc.line("cluster, 16 connections"))
        print(
            f"cluster/embedded: sequential p50 {clu_seq.pct(0.5) / emb_seq.pct(0.5):.2f}x, "
            f"sequential throughput {clu_seq.rate / emb_seq.rate:.2f}, "
            f"16-connection throughput {clu_conc.rate / emb_conc.rate:.2f}"
        )
    print()
    print("100 ms predictor, 2N connections, Prefer: wait")
    print(
        f"{'slots':>5} {'predictions/s':>14} {'per slot':>9} {'p50 ms':>8} {'linear':>8} "
        f"{'of linear':>10} {'machine CPU busy':>17}"
    )
    base = scaling[slot_counts[0]][0].rate / slot_counts[0]
    for slots, (result, cores) in scaling.items():
        linear = base * slots
        busy = "-" if cores is None else f"{cores:.2f} of {os.cpu_count()} cores"
        print(
            f"{slots:>5} {result.rate:>14.1f} {result.rate / slots:>9.2f} {result.pct(0.5):>8.1f} "
            f"{linear:>8.1f} {result.rate / linear:>10.0%} {busy:>17}"
        )
    worst = min(run.rate / (base * slots) for slots, (run, _) in scaling.items())
    print(f"target (every count within 90% of linear): {'met' if worst >= 0.9 else 'NOT met'}")


if __name__ == "__main__":
    main()
