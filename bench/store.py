"""What the database costs per prediction: SQLite against PostgreSQL, in one run.

The same no-op predictor through the whole API (`POST /v1/models/bench/noop/predictions` with
`Prefer: wait`), sequential and 16 concurrent, once with the default SQLite store and once with
`database` set to PostgreSQL. Prints p50, p99, predictions/s and the ratios.

PostgreSQL is the server at PIER_BENCH_POSTGRES (default: the local one, user postgres); the
bench makes a throw-away database there and drops it at the end.
Run: python bench/store.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import Result  # noqa: E402
from overhead import free_port, measure, start_pier  # noqa: E402

POSTGRES = os.environ.get("PIER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throw_away_database() -> Iterator[str]:
    """A new database on the PostgreSQL server, as a `database` setting; dropped at the end."""
    name = f"pier_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(data: Path, database: str, requests: int, concurrency: int) -> Result:
    """One server on an empty database (with 2 workers when requests come concurrently)."""
    port = free_port()
    server = start_pier(data, port, workers=1 if concurrency == 1 else 2, database=database)
    try:
        return asyncio.run(measure(port, requests, concurrency))
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    n = args.requests
    results: dict[tuple[str, int], Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (1, 16):
            data = Path(tmp) / f"sqlite-{concurrency}"
            results["sqlite", concurrency] = run(data, "", n, concurrency)
            with throw_away_database() as url:
                data = Path(tmp) / f"postgresql-{concurrency}"
                results["postgresql", concurrency] = run(data, url, n, concurrency)

    print(f"no-op predictor, Prefer: wait, {n} requests each, {os.cpu_count()} CPUs")
    print("(1 model process sequential, 2 with 16 concurrent connections)")
    for (database, concurrency), result in results.items():
        how = "sequential" if concurrency == 1 else "16 concurrent"
        print(result.line(f"{database}, {how}"))
    seq = results["postgresql", 1], results["sqlite", 1]
    conc = results["postgresql", 16], results["sqlite", 16]
    print(f"ratio postgresql/sqlite p50 (sequential): {seq[0].pct(0.5) / seq[1].pct(0.5):.2f}x")
    print(f"ratio postgresql/sqlite throughput (sequential): {seq[0].rate / seq[1].rate:.2f}")
    print(f"ratio postgresql/sqlite throughput (16 concurrent): {conc[0].rate / conc[1].rate:.2f}")


if __name__ == "__main__":
    main()
