"""The migrations build exactly the tables declared in pier/store/tables.py."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pier.store import migrate
from pier.store.engine import create_engine
from pier.store.tables import metadata
from tests.postgres import ThrowAwayDatabase


def _differences(url: str) -> list[object]:
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return [d for d in compare_metadata(context, metadata) if not _harmless(d)]
    finally:
        engine.dispose()


def _harmless(difference: object) -> bool:
    # Alembic's own bookkeeping table is not declared in tables.py.
    return (
        isinstance(difference, tuple)
        and difference[0] == "remove_table"
        and (difference[1].name == "alembic_version")
    )


def test_sqlite_schema_matches_tables(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'pier.db'}") == []


def test_postgresql_schema_matches_tables(postgres_database: ThrowAwayDatabase) -> None:
    assert _differences(postgres_database.new_schema()) == []
