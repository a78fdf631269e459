"""The store's engine on both databases: which URLs mean what, which errors are an outage, and
what PostgreSQL needs to behave like SQLite (UTC timestamps, NUL characters, one migration at
a time)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pier.store import Store, migrate
from pier.store.engine import create_engine, engine_url, unavailable
from tests.conftest import Pier
from tests.postgres import ThrowAwayDatabase, connect, postgres_or_skip


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://pier:secret@db.example.org:5432/pier",
        "postgres://pier:secret@db.example.org:5432/pier",
        "postgresql+psycopg://pier:secret@db.example.org:5432/pier",
    ],
)
def test_each_spelling_of_postgresql_uses_psycopg_3(url: str) -> None:
    parsed = engine_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.database, parsed.password) == ("db.example.org", "pier", "secret")


def test_sqlite_urls_stay_sqlite() -> None:
    assert engine_url("sqlite:////var/pier/pier.db").drivername == "sqlite"


@pytest.mark.parametrize(
    "url", ["mysql://pier:secret@db/pier", "postgresql+asyncpg://pier:secret@db/pier", "nonsense"]
)
def test_other_databases_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        engine_url(url)
    assert "sqlite:///" in str(refused.value) and "secret" not in str(refused.value)


def test_a_locked_sqlite_database_is_an_outage_but_a_missing_table_is_a_bug(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pier.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.commit()
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa.exc.OperationalError) as locked, engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert unavailable(locked.value, "sqlite")
        holder.rollback()
        with pytest.raises(sa.exc.OperationalError) as missing, engine.begin() as conn:
            conn.execute(sa.text("SELECT * FROM gone"))
        assert not unavailable(missing.value, "sqlite")
    finally:
        holder.close()
        engine.dispose()


@pytest.fixture
def postgres_schema(postgres_database: ThrowAwayDatabase) -> Iterator[str]:
    postgres_or_skip()
    yield postgres_database.new_schema()


async def test_postgresql_timestamps_come_back_in_utc(postgres_schema: str) -> None:
    with connect(engine_url(postgres_schema)) as conn:  # the server's zone is far from UTC
        [(zone,)] = conn.execute("SHOW timezone").fetchall()
    assert zone != "UTC"
    store = await Store.open(postgres_schema)
    try:
        account = await store.create_account("zoned")
        stored = await store.get_account(account["id"])
    finally:
        await store.close()
    assert stored is not None
    assert stored["created_at"] == account["created_at"]
    assert stored["created_at"].utcoffset() == timedelta(0)


def test_processes_starting_together_migrate_one_after_another(postgres_schema: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            migrate.upgrade(postgres_schema)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = create_engine(postgres_schema)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert {"predictions", "webhook_deliveries", "alembic_version"} <= tables


async def test_nul_characters_in_logs_errors_and_names_never_break_a_request(pier: Pier) -> None:
    await pier.add_fixture("t/text", "print_text.py")
    created = await pier.create("t/text", {"text": "before\x00after"})
    assert created.status_code == 201, created.text
    body = await pier.wait_done(created.json()["id"])
    assert body["status"] == "failed"
    assert body["input"] == {"text": "before\x00after"}  # JSON carries it as \\u0000
    # PostgreSQL text cannot hold NUL: it is kept as U+FFFD there, as is on SQLite
    kept = {"before\x00after", "before\ufffdafter"}
    assert body["error"] in kept
    assert any(line in kept for line in body["logs"].splitlines())
    for path in ("/v1/models/t%00/text", "/v1/predictions/x%00", "/v1/files/x%00"):
        missing = await pier.client.get(path)
        assert missing.status_code == 404, missing.text
