"""The store's low-level access: reads and writes over the threaded engine, rows as dicts with
timezone-aware timestamps. The store's parts (`store.py`, `running.py`) build on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pier.store.engine import ThreadedEngine, Write

Row = dict[str, Any]


def _aware(row: Row) -> Row:
    """SQLite hands timestamps back without a zone; every stored timestamp is UTC."""
    for key, value in row.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            row[key] = value.replace(tzinfo=UTC)
    return row


class Access:
    def __init__(self, url: str) -> None:
        self.url = url
        self.db = ThreadedEngine(url)

    async def _one(self, query: sa.Select[Any]) -> Row | None:
        def run(conn: sa.Connection) -> Row | None:
            row = conn.execute(query).mappings().first()
            return _aware(dict(row)) if row else None

        return await self.db.read(run)

    async def _all(self, query: sa.Select[Any]) -> list[Row]:
        def run(conn: sa.Connection) -> list[Row]:
            return [_aware(dict(r)) for r in conn.execute(query).mappings()]

        return await self.db.read(run)

    async def _write(self, *statements: Write) -> int:
        return await self.db.write(*statements)
