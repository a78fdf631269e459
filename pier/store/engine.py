"""Runs SQLAlchemy Core on threads, so the event loop never blocks on the database.

Reads go to a small pool of threads, each call one hop. Writes go to a single writer thread with
group commit: every write queued while the previous transaction was committing is applied in the
next single transaction, so many concurrent predictions cost one commit, not one each. If a
batch fails, its jobs are retried one by one so that only the faulty one sees the error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
MAX_BATCH = 256


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# A statement, or a prepared statement with its parameters (no per-call statement building).
Write = sa.Executable | tuple[sa.Executable, dict[str, Any]]


@dataclass
class _Job:
    statements: Sequence[Write]
    future: asyncio.Future[int]


class ThreadedEngine:
    def __init__(self, url: str, readers: int = 2) -> None:
        self.engine = sa.create_engine(url, pool_size=readers + 1, max_overflow=4)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.dialect = self.engine.dialect.name
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="pier-db-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="pier-db-write")
        self._pending: list[_Job] = []
        self._draining: asyncio.Task[None] | None = None

    async def read(self, fn: Callable[[sa.Connection], T]) -> T:
        def run() -> T:
            with self.engine.connect() as conn:
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    async def write(self, *statements: Write) -> int:
        """Apply statements in one transaction (shared with other writers); rows affected."""
        return await self.submit(*statements)

    def submit(self, *statements: Write) -> asyncio.Future[int]:
        """Queue a write now (writes apply in the order they are submitted); await it later."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(statements, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                counts = await loop.run_in_executor(self._writer, self._commit, batch)
            except Exception:
                for job in batch:
                    await self._retry_alone(loop, job)
                continue
            for job, count in zip(batch, counts, strict=True):
                if not job.future.done():
                    job.future.set_result(count)

    async def _retry_alone(self, loop: asyncio.AbstractEventLoop, job: _Job) -> None:
        try:
            (count,) = await loop.run_in_executor(self._writer, self._commit, [job])
        except Exception as exc:
            if not job.future.done():
                job.future.set_exception(exc)
        else:
            if not job.future.done():
                job.future.set_result(count)

    def _commit(self, batch: list[_Job]) -> list[int]:
        counts = []
        with self.engine.begin() as conn:
            for job in batch:
                count = 0
                for statement in job.statements:
                    if isinstance(statement, tuple):
                        result = conn.execute(statement[0], statement[1])
                    else:
                        result = conn.execute(statement)
                    count += result.rowcount or 0
                counts.append(count)
        return counts

    async def close(self) -> None:
        if self._draining is not None:
            with contextlib.suppress(Exception):
                await self._draining
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        self.engine.dispose()
