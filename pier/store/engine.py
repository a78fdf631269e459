"""Runs SQLAlchemy Core for the event loop: reads on threads, writes with group commit.

Reads go to a small pool of threads, each call one hop. Writes are queued and applied in order
with group commit: every write queued while the previous transaction was committing is applied in
the next single transaction, so many concurrent predictions cost one commit, not one each. If a
batch fails, its jobs are retried one by one so that only the faulty one sees the error.

Where writes run depends on the database. PostgreSQL answers over the network, so its writes go
to a single writer thread and the event loop never waits on a round trip. A SQLite write is a
few dozen microseconds of work in the same process (WAL mode, no sync at commit), less than the
hop to a thread and back, so SQLite's writes run on the event loop's own thread, on a connection
that never waits for a lock: when another connection holds SQLite's write lock (a `pier` command
writing beside the server), that batch goes to the writer thread instead, which waits for the
lock there. The loop's connection never checkpoints the WAL itself (a checkpoint syncs files);
the writer thread does it in the background every few hundred commits.

The database is SQLite or PostgreSQL (through psycopg 3). When it cannot be reached, or is too
busy to answer, every read and write fails with `StoreUnavailable` (the API answers 503); the
connection pool checks a PostgreSQL connection that sat idle before handing it out, and starts
afresh after a lost connection, so Pier reconnects by itself once the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from pier.jsonfast import dumps_text, loads

T = TypeVar("T")
MAX_BATCH = 256
CHECKPOINT_EVERY = 256  # SQLite commits on the loop between two background WAL checkpoints
CONNECT_TIMEOUT = 5  # seconds to reach PostgreSQL before a request is answered 503
UNAVAILABLE = "The database is unreachable; try again shortly."
# SQLite's ways of saying "not now" (a lock held too long, a file that cannot be opened), as
# opposed to its other OperationalErrors, which are bugs (a missing table, bad SQL).
_SQLITE_LOCKED = ("database is locked", "database table is locked")
_SQLITE_BUSY = (*_SQLITE_LOCKED, "unable to open", "disk i/o")
_POSTGRESQL_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}


class StoreUnavailable(Exception):
    """The database cannot be reached, or is too busy to answer, right now."""


def engine_url(url: str) -> sa.URL:
    """The SQLAlchemy URL for a `database` setting: SQLite, or PostgreSQL through psycopg 3.

    `postgresql://`, `postgres://` and `postgresql+psycopg://` all mean PostgreSQL.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(
            "the database setting is not a URL (sqlite:///… or postgresql://…)"
        ) from exc
    if parsed.drivername in _POSTGRESQL_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite")
    shown = parsed.render_as_string(hide_password=True)
    raise ValueError(f"the database must be sqlite:///PATH or postgresql://…, not {shown}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, **options: Any) -> sa.Engine:
    """An engine for a `database` setting, set up for Pier (the pool options go to SQLAlchemy)."""
    parsed = engine_url(url)
    options = {"json_serializer": dumps_text, "json_deserializer": loads, **options}
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    from pier.store import postgresql  # psycopg is imported only when it is used

    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    engine = sa.create_engine(parsed, connect_args=connect_args, **options)
    postgresql.set_up(engine)
    return engine


def unavailable(exc: BaseException, dialect: str) -> bool:
    """Whether an error means the database cannot answer now (rather than a bug)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.DisconnectionError | sa.exc.TimeoutError):
        return True  # the pool could not hand out a working connection in time
    if not isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    if dialect == "sqlite":
        return any(words in str(exc.orig).lower() for words in _SQLITE_BUSY)
    return True  # psycopg: lost connections, refused logins, shutdowns, resource limits


# A statement, or a prepared statement with its parameters (no per-call statement building).
Write = sa.Executable | tuple[sa.Executable, Mapping[str, Any]]

# A write that must look at what it finds before deciding what to write (money): run on the writer
# thread inside the shared transaction; returns rows affected, or raises `Declined` having
# written nothing (or having undone what it wrote, in the same transaction).
Transaction = Callable[[sa.Connection], int]


class _Locked(Exception):
    """SQLite's write lock is held by another connection (the loop's connection does not wait)."""


class Declined(Exception):
    """A transaction function chose not to write; its caller gets this, the batch goes on."""


@dataclass
class _Job:
    statements: Sequence[Write] | Transaction
    future: asyncio.Future[int]


class ThreadedEngine:
    def __init__(self, url: str, readers: int = 2) -> None:
        self.engine = create_engine(url, pool_size=readers + 1, max_overflow=4)
        self.dialect = self.engine.dialect.name
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="pier-db-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="pier-db-write")
        self._pending: list[_Job] = []
        self._write_conn: sa.Connection | None = None  # SQLite's, on the writer thread only
        self._loop_conn: sa.Connection | None = None  # SQLite's, on the event loop's thread
        self._loop_commits = 0
        self._prepared = _PreparedCache(self.engine.dialect) if self.dialect == "sqlite" else None
        self._checkpoint: asyncio.Future[None] | None = None
        self._draining: asyncio.Task[None] | None = None

    def unavailable(self, exc: BaseException) -> bool:
        return unavailable(exc, self.dialect)

    def _translated(self, exc: Exception) -> Exception:
        if not self.unavailable(exc):
            return exc
        unavailable = StoreUnavailable(UNAVAILABLE)
        unavailable.__cause__ = exc
        return unavailable

    async def read(self, fn: Callable[[sa.Connection], T]) -> T:
        def run() -> T:
            with self.engine.connect() as conn:
                return fn(conn)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._readers, run)
        except Exception as exc:
            translated = self._translated(exc)
            if translated is exc:
                raise
            raise translated from exc

    async def write(self, *statements: Write) -> int:
        """Apply statements in one transaction (shared with other writers); rows affected."""
        return await self.submit(*statements)

    async def transact(self, fn: Transaction) -> int:
        """Run `fn` on the writer inside a transaction (shared with other writers): what it
        returns, or the `Declined` it raises."""
        return await self._queue(fn)

    def submit(self, *statements: Write) -> asyncio.Future[int]:
        """Queue a write now (writes apply in the order they are submitted); await it later."""
        return self._queue(statements)

    def _queue(self, statements: Sequence[Write] | Transaction) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(statements, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        if self.dialect == "sqlite":
            # Writes run here on the loop: let what the loop is already handling (other
            # requests' callbacks) queue theirs first, to share the commit.
            await asyncio.sleep(0)
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                counts = await self._commit_batch(loop, batch)
            except Exception as exc:
                if self.unavailable(exc):  # each alone would fail the same way, one at a time
                    for job in batch:
                        _fail(job, self._translated(exc))
                    continue
                for job in batch:
                    await self._retry_alone(loop, job)
                continue
            for job, count in zip(batch, counts, strict=True):
                _settle(job, count)

    async def _retry_alone(self, loop: asyncio.AbstractEventLoop, job: _Job) -> None:
        try:
            (count,) = await loop.run_in_executor(self._writer, self._commit, [job])
        except Exception as exc:
            _fail(job, self._translated(exc))
        else:
            _settle(job, count)

    async def _commit_batch(
        self, loop: asyncio.AbstractEventLoop, batch: list[_Job]
    ) -> list[int | Declined]:
        if self.dialect == "sqlite":
            try:
                return self._commit_on_loop(batch)
            except _Locked:
                pass  # another connection is writing: wait for its lock on the writer thread
        return await loop.run_in_executor(self._writer, self._commit, batch)

    def _commit_on_loop(self, batch: list[_Job]) -> list[int | Declined]:
        """Apply a SQLite batch right here, on a connection that never waits for the write
        lock (`_Locked` when another connection holds it; nothing was written then)."""
        if self._loop_conn is None:
            conn = self.engine.connect()
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            conn.commit()
            self._loop_conn = conn
        try:
            counts = _apply(self._loop_conn, batch, self._prepared)
        except sa.exc.OperationalError as exc:
            if any(words in str(exc.orig).lower() for words in _SQLITE_LOCKED):
                raise _Locked from exc
            if self.unavailable(exc):
                conn, self._loop_conn = self._loop_conn, None
                with contextlib.suppress(Exception):
                    conn.close()
            raise
        self._loop_commits += 1
        if self._loop_commits % CHECKPOINT_EVERY == 0 and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            loop = asyncio.get_running_loop()
            self._checkpoint = loop.run_in_executor(self._writer, self._checkpoint_wal)
        return counts

    def _checkpoint_wal(self) -> None:
        """Copy committed pages from the WAL into the database file (writers go on meanwhile);
        a failed checkpoint is only retried at the next one."""
        with contextlib.suppress(Exception), self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _commit(self, batch: list[_Job]) -> list[int | Declined]:
        if self.dialect != "sqlite":
            # PostgreSQL: a pooled connection per batch, checked by the pool when it sat idle
            # (the server may have restarted in between).
            with self.engine.connect() as conn:
                return _apply(conn, batch)
        # SQLite: the writer thread keeps its own connection between batches (a pool checkout
        # per batch costs more than the writes of a small one). A file has no server to lose.
        if self._write_conn is None:
            self._write_conn = self.engine.connect()
        try:
            return _apply(self._write_conn, batch, self._prepared)
        except Exception as exc:
            if self.unavailable(exc):
                self._drop_writer_connection()  # the next batch starts on a new connection
            raise

    def _drop_writer_connection(self) -> None:
        conn, self._write_conn = self._write_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    async def close(self) -> None:
        if self._draining is not None:
            with contextlib.suppress(Exception):
                await self._draining
        if self._checkpoint is not None:
            with contextlib.suppress(Exception):
                await self._checkpoint
        if self._loop_conn is not None:
            with contextlib.suppress(Exception):
                self._loop_conn.close()
            self._loop_conn = None
        self._readers.shutdown(wait=True)
        self._writer.submit(self._drop_writer_connection).result()
        self._writer.shutdown(wait=True)
        self.engine.dispose()


def _apply(
    conn: sa.Connection, batch: list[_Job], prepared: _PreparedCache | None = None
) -> list[int | Declined]:
    """Apply a batch of jobs' statements in one transaction; rows affected per job (or what a
    transaction function declined with). With `prepared` (SQLite), prepared statements go
    straight to the driver's cursor (see `_PreparedCache`)."""
    # Rows affected by inserts too (SQLAlchemy keeps only those of updates and deletes by
    # default, and psycopg's are gone once the statement's cursor is closed).
    conn = conn.execution_options(preserve_rowcount=True)
    counts: list[int | Declined] = []
    cursor = None
    with conn.begin(), contextlib.ExitStack() as cleanup:
        for job in batch:
            if callable(job.statements):
                try:
                    counts.append(job.statements(conn))
                except Declined as exc:
                    counts.append(exc)
                continue
            count = 0
            for statement in job.statements:
                if isinstance(statement, tuple):
                    direct = prepared.get(*statement) if prepared is not None else None
                    if direct is not None:
                        if cursor is None:
                            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                            cleanup.callback(cursor.close)
                        count += direct.run(cursor, statement[1])
                        continue
                    result = conn.execute(statement[0], statement[1])
                else:
                    result = conn.execute(statement)
                count += result.rowcount or 0
            counts.append(count)
    return counts


@dataclass(frozen=True)
class _Direct:
    """A prepared statement compiled once for the driver: its SQL, and how each call's
    parameters become the driver's (in order, each through its column type's conversion)."""

    sql: str
    steps: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]  # name, fixed value, convert
    dialect: sa.Dialect

    def run(self, cursor: Any, params: Mapping[str, Any]) -> int:
        """Rows affected; the driver's errors come out as SQLAlchemy's, as they would from
        `Connection.execute` (so a locked or lost database reads the same)."""
        values = []
        for name, fixed, convert in self.steps:
            value = params[name] if fixed is _GIVEN else fixed
            values.append(value if convert is None else convert(value))
        dbapi_error = self.dialect.loaded_dbapi.Error
        try:
            cursor.execute(self.sql, values)
        except dbapi_error as exc:
            raise sa.exc.DBAPIError.instance(
                self.sql, dict(params), exc, dbapi_error, dialect=self.dialect
            ) from exc
        return int(cursor.rowcount or 0)


_GIVEN = object()  # a parameter that each call gives


class _PreparedCache:
    """Prepared statements (the `(statement, parameters)` writes on every prediction's path),
    compiled once per set of parameter names and run on the driver's cursor directly:
    SQLAlchemy's per-execution bookkeeping costs more than SQLite's own work for these small
    writes. The conversions are SQLAlchemy's own (the column types' bind processors), so what
    is stored is the same. A statement that needs anything more (a Python-side default, a
    parameter it does not get) is left to SQLAlchemy."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[tuple[sa.Executable, frozenset[str]], _Direct | None] = {}

    def get(self, statement: sa.Executable, params: Mapping[str, Any]) -> _Direct | None:
        key = (statement, frozenset(params))
        try:
            return self._cache[key]
        except KeyError:
            pass
        if len(self._cache) > 1024:
            self._cache.clear()
        direct = self._cache[key] = self._compile(statement, params)
        return direct

    def _compile(self, statement: sa.Executable, params: Mapping[str, Any]) -> _Direct | None:
        if not isinstance(statement, sa.Insert | sa.Update | sa.Delete):
            return None
        compiled = statement.compile(dialect=self.dialect, column_keys=list(params))
        order = compiled.positiontup
        if order is None or compiled.escaped_bind_names:
            return None
        if compiled.insert_prefetch or compiled.update_prefetch:
            return None  # a column default computed in Python for each row
        steps = []
        for name in order:
            bind = compiled.binds[name]
            if bind.expanding or bind.literal_execute:
                return None  # rendered into the SQL at each execution
            if name in params:
                fixed: Any = _GIVEN
            elif bind.callable is None and bind.value is not None:
                fixed = bind.value
            else:
                return None  # a default computed per row, or a parameter nobody gives
            convert = bind.type.dialect_impl(self.dialect).bind_processor(self.dialect)
            steps.append((name, fixed, convert))
        return _Direct(compiled.string, tuple(steps), self.dialect)


def _settle(job: _Job, outcome: int | Declined) -> None:
    if job.future.done():
        return
    if isinstance(outcome, Declined):
        job.future.set_exception(outcome)
    else:
        job.future.set_result(outcome)


def _fail(job: _Job, exc: Exception) -> None:
    if not job.future.done():
        job.future.set_exception(exc)
