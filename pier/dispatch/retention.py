"""Retention: an API prediction's input, output, logs and files are removed once it has been
over for its account's retention period (`data_retention_seconds`, else the
`api_data_retention` setting); it then says `data_removed: true`. Playground predictions, and
the first-start examples, stay until their owner deletes them; trainings keep theirs (their
output is a version's weights).

Any process's keeper runs the sweep; the write that removes a prediction's data applies once
(`data_removed_at IS NULL`), and a file already gone is no error.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pier.files import FileStore
from pier.store import Store
from pier.store.tables import accounts, files, predictions

BATCH = 200
TERMINAL = ("succeeded", "failed", "canceled")


def _due(cutoff: datetime, custom: bool, limit: int) -> sa.Select[Any]:
    """API predictions over before `cutoff` whose data is still there, of accounts with (or
    without) a retention period of their own."""
    query = (
        sa.select(predictions.c.id)
        .join(accounts, accounts.c.id == predictions.c.account_id)
        .where(predictions.c.source == "api", predictions.c.kind == "prediction")
        .where(predictions.c.status.in_(TERMINAL), predictions.c.data_removed_at.is_(None))
        .where(predictions.c.completed_at < cutoff)
    )
    if not custom:
        query = query.where(accounts.c.data_retention_seconds.is_(None))
    return query.order_by(predictions.c.completed_at).limit(limit)


async def sweep(store: Store, file_store: FileStore, default_seconds: float, now: datetime) -> int:
    """Remove the data of every API prediction past its retention period; how many."""

    def find(conn: sa.Connection) -> list[str]:
        default_cutoff = now - timedelta(seconds=default_seconds)
        found: list[str] = list(conn.execute(_due(default_cutoff, False, BATCH)).scalars())
        custom = conn.execute(
            sa.select(accounts.c.id, accounts.c.data_retention_seconds).where(
                accounts.c.data_retention_seconds.is_not(None)
            )
        ).all()
        for account_id, seconds in custom:
            query = _due(now - timedelta(seconds=seconds), True, BATCH).where(
                predictions.c.account_id == account_id
            )
            found += list(conn.execute(query).scalars())
        return found

    removed = 0
    while ids := await store.db.read(find):
        await remove_data(store, file_store, ids, now)
        removed += len(ids)
        if len(ids) < BATCH:
            break
    return removed


async def remove_data(store: Store, file_store: FileStore, ids: list[str], now: datetime) -> None:
    """Delete these predictions' files (bytes first), then blank their input, output and logs."""

    def owned(conn: sa.Connection) -> list[dict[str, object]]:
        rows = conn.execute(sa.select(files).where(files.c.prediction_id.in_(ids)))
        return [dict(row._mapping) for row in rows]

    file_rows = await store.db.read(owned)
    await asyncio.to_thread(file_store.delete_bytes, file_rows)
    await store.db.write(
        files.delete().where(files.c.prediction_id.in_(ids)),
        predictions.update()
        .where(predictions.c.id.in_(ids), predictions.c.data_removed_at.is_(None))
        .values(input={}, output=None, logs="", context=None, data_removed_at=now),
    )


async def delete(store: Store, file_store: FileStore, prediction_id: str, now: datetime) -> None:
    """Delete an ended prediction for good: its files, then its record (its ledger entries
    stay, naming it)."""
    await remove_data(store, file_store, [prediction_id], now)
    await store.db.write(predictions.delete().where(predictions.c.id == prediction_id))
