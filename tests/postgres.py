"""A real PostgreSQL for the tests: a throw-away database per test session, holding one schema
that each test gets emptied, and fresh schemas for tests that need one of their own (a schema
costs a few milliseconds, migrating it a tenth of a second, a database far more).

The server comes from PIER_TEST_POSTGRES (default: the local one, user postgres). Without one the
PostgreSQL cases are skipped with the reason, except under CI=true, where it is a failure. Each
throw-away database keeps its timestamps in a time zone far from UTC, so a test notices if Pier
hands back the server's local time instead of UTC.
"""

from __future__ import annotations

import itertools
import os
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from pier.store import migrate
from pier.store.tables import metadata

POSTGRES_URL = os.environ.get("PIER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
AWAY_FROM_UTC = "Asia/Kathmandu"  # UTC+05:45


def _conninfo(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str | sa.URL = POSTGRES_URL) -> psycopg.Connection[tuple[object, ...]]:
    """A plain autocommit connection, for setting up and for looking behind Pier's back."""
    return psycopg.connect(_conninfo(sa.make_url(url)), autocommit=True, connect_timeout=3)


def postgres_or_skip() -> None:
    try:
        connect().close()
    except psycopg.Error as exc:
        message = (
            f"PostgreSQL at {POSTGRES_URL} does not answer ({exc}); start it "
            "(scripts/test.sh does) or set PIER_TEST_POSTGRES"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class ThrowAwayDatabase:
    """A database of its own on the test server, dropped (with its connections) at the end."""

    def __init__(self, prefix: str = "pier_test") -> None:
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.url = sa.make_url(POSTGRES_URL).set(database=self.name)
        self._schemas = itertools.count()
        self._shared: str | None = None
        with connect() as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
            admin.execute(f"ALTER DATABASE \"{self.name}\" SET timezone = '{AWAY_FROM_UTC}'")
            # A crash of the test server may lose the last commits of a throw-away database.
            admin.execute(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off')

    def __str__(self) -> str:
        return _conninfo(self.url)

    def new_schema(self) -> str:
        """A `database` setting for an empty schema of this database (its own search_path)."""
        schema = f"t{next(self._schemas)}"
        with connect(self.url) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = self.url.update_query_dict({"options": f"-csearch_path={schema}"})
        return _conninfo(url)

    def emptied_schema(self) -> str:
        """A `database` setting for this session's shared schema, every table emptied: as good
        as a fresh schema for a test, and ten times cheaper than migrating one."""
        tables = [table.name for table in reversed(metadata.sorted_tables)]  # children first
        if self._shared is not None:
            with connect(self._shared) as conn, conn.transaction():
                present = conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchall()
                if {name for (name,) in present} >= set(tables):
                    for name in tables:
                        conn.execute(f'DELETE FROM "{name}"')
                    return self._shared
        # the first test, or the one after a test that damaged the schema on purpose
        self._shared = self.new_schema()
        migrate.upgrade(self._shared)
        return self._shared

    def refuse_connections(self) -> None:
        """A real outage of this database: no new connections, and the open ones cut."""
        with connect() as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self.cut_connections()

    def cut_connections(self) -> int:
        """End every open connection to this database (as a server restart does); how many."""
        with connect() as admin:
            cut = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self.name],
            ).fetchall()
        return len(cut)

    def allow_connections(self) -> None:
        with connect() as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    def drop(self) -> None:
        with connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
