"""SQLite's writes on the event loop: prepared statements go straight to the driver and store
exactly what SQLAlchemy would; a write lock held elsewhere neither blocks the loop nor loses the
write; the WAL is still checkpointed."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pier.dispatch.rows import new_prediction
from pier.store import Store
from pier.store.engine import CHECKPOINT_EVERY, ThreadedEngine
from pier.store.jobs import final_write
from pier.store.store import _prediction_update, prediction_insert
from pier.store.tables import predictions
from pier.util import utcnow


async def _store_with_model(tmp_path: Path) -> tuple[Store, dict[str, Any], dict[str, Any]]:
    store = await Store.open(f"sqlite:///{tmp_path / 'pier.db'}")
    account = await store.create_account("ada")
    model = await store.create_model(account["id"], "ada", "echo")
    version = {"id": "v" * 64, "openapi_schema": {}}
    return store, account, {**model, "owner": "ada", "name": "echo", "version": version}


@contextlib.asynccontextmanager
async def _engine_on(path: Path, *setup: str) -> AsyncIterator[ThreadedEngine]:
    """The store's engine on a new SQLite file made by the `setup` statements, closed after."""
    with sqlite3.connect(path) as conn:
        for statement in setup:
            conn.execute(statement)
    db = ThreadedEngine(f"sqlite:///{path}")
    try:
        yield db
    finally:
        await db.close()


def _raw_rows(path: Path, ids: list[str]) -> list[tuple[Any, ...]]:
    """The predictions as SQLite holds them (no type conversion on the way out), id blanked."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = None
        rows = [
            conn.execute("SELECT * FROM predictions WHERE id = ?", (i,)).fetchone() for i in ids
        ]
    return [tuple(None if value in ids else value for value in row) for row in rows]


async def test_prepared_writes_store_what_sqlalchemy_would(tmp_path: Path) -> None:
    store, account, model = await _store_with_model(tmp_path)
    try:
        rows = []
        for _ in range(2):
            row = new_prediction(
                account["id"],
                model,
                model["version"],
                {"text": "héllo ✓", "n": 3, "nested": {"a": [1, 2.5, None]}},
                secret_input={"token": "s3cret"},
                webhook="https://example.org/hook",
                webhook_events_filter=["completed"],
                context={"trace": "abc"},
            )
            row["created_at"] = rows[0]["created_at"] if rows else row["created_at"]
            row["stream_token"] = "t"
            rows.append(row)
        started = utcnow()
        done = {
            "status": "succeeded",
            "output": None,  # a JSON column where None is JSON null, not SQL NULL
            "error": None,
            "metrics": {"predict_time": 0.25},
            "progress": None,
            "completed_at": started,
            "secret_input": None,  # a JSON column where None is SQL NULL
        }

        def writes(row: dict[str, Any]) -> list[Any]:
            return [
                *prediction_insert(row),  # type: ignore[arg-type]
                _prediction_update(row["id"], {"status": "processing", "started_at": started}),
                *final_write(row["id"], "worker-1", done, [], None),
            ]

        # The first through the store (the prepared statements go to the driver directly) ...
        assert await store.db.write(*writes(rows[0])) == 4
        prepared = store.db._prepared
        assert prepared is not None and len(prepared._cache) == 4
        assert None not in prepared._cache.values()  # each went to the driver directly
        # ... the second through SQLAlchemy's own execution of the same statements.
        engine = store.db.engine
        with engine.begin() as conn:
            for statement, params in writes(rows[1]):
                conn.execute(statement, params)
        fast, reference = _raw_rows(tmp_path / "pier.db", [r["id"] for r in rows])
        assert fast == reference
        names = [c.name for c in predictions.columns]
        stored = dict(zip(names, fast, strict=True))
        assert stored["output"] == "null" and stored["secret_input"] is None
        assert stored["status"] == "succeeded" and stored["worker_id"] == "worker-1"
        again = await store.get_prediction(rows[0]["id"])
        assert again is not None and again["input"]["nested"] == {"a": [1, 2.5, None]}
        assert again["started_at"] == started
    finally:
        await store.close()


async def test_a_write_lock_held_elsewhere_neither_blocks_the_loop_nor_loses_the_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    table = sa.table("t", sa.column("x"))
    held, release = threading.Event(), threading.Event()

    def hold_lock() -> None:  # another process writing beside the server, for a while
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (0)")
        held.set()
        release.wait(10)
        other.execute("COMMIT")
        other.close()

    async with _engine_on(path, "PRAGMA journal_mode=WAL", "CREATE TABLE t (x INTEGER)") as db:
        try:
            assert await db.write(table.insert().values(x=1)) == 1  # the loop's connection
            holder = threading.Thread(target=hold_lock)
            holder.start()
            assert held.wait(10)
            write = asyncio.ensure_future(db.write(table.insert().values(x=2)))
            # While the lock is held the loop goes on: timers fire on time, the write waits.
            ticks, started = 0, time.monotonic()
            while time.monotonic() - started < 0.3:
                before = time.monotonic()
                await asyncio.sleep(0.01)
                assert time.monotonic() - before < 0.2
                ticks += 1
            assert ticks >= 10 and not write.done()
            release.set()
            assert await asyncio.wait_for(write, 15) == 1
            holder.join(10)
        finally:
            release.set()
    with sqlite3.connect(path) as check:
        assert sorted(x for (x,) in check.execute("SELECT x FROM t")) == [0, 1, 2]


async def test_the_wal_is_checkpointed_while_the_loop_writes(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    table = sa.table("t", sa.column("x"), sa.column("pad"))
    setup = ("PRAGMA journal_mode=WAL", "CREATE TABLE t (x INTEGER, pad TEXT)")
    async with _engine_on(path, *setup) as db:
        for x in range(CHECKPOINT_EVERY * 2 + 10):
            await db.write(table.insert().values(x=x, pad="p" * 200))  # one commit each
        deadline = time.monotonic() + 10
        while db._checkpoint is None or not db._checkpoint.done():
            assert time.monotonic() < deadline, "no checkpoint ran"
            await asyncio.sleep(0.01)
        # The database file alone (without its WAL) holds the rows of the checkpoints.
        alone = tmp_path / "alone.db"
        shutil.copy(path, alone)
    with sqlite3.connect(alone) as check:
        (count,) = check.execute("SELECT count(*) FROM t").fetchone()
    assert count >= CHECKPOINT_EVERY


async def test_writes_the_driver_cannot_take_as_compiled_go_through_sqlalchemy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.db"
    table = sa.Table(
        "t", sa.MetaData(), sa.Column("x", sa.Integer), sa.Column("y", sa.String, default="made")
    )
    insert = table.insert()  # `y` comes from a default computed for each row
    delete = table.delete().where(table.c.x.in_(sa.bindparam("xs", expanding=True)))
    async with _engine_on(path, "CREATE TABLE t (x INTEGER, y TEXT)") as db:
        assert await db.write((insert, {"x": 1}), (insert, {"x": 2})) == 2
        assert await db.write((delete, {"xs": [2, 3]})) == 1
        prepared = db._prepared
        assert prepared is not None and set(prepared._cache.values()) == {None}
    with sqlite3.connect(path) as check:
        assert list(check.execute("SELECT x, y FROM t")) == [(1, "made")]
