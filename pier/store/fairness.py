"""The store's side of fair sharing: queue priorities of accounts and tokens, how many
predictions an account has waiting, and the Idempotency-Key of creates."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pier.store.access import Access, Row
from pier.store.tables import accounts, idempotency_keys, predictions, tokens

_COUNT_WAITING = (
    sa.select(sa.func.count())
    .select_from(predictions)
    .where(predictions.c.account_id == sa.bindparam("account_id"))
    .where(predictions.c.status == "starting")
)


class FairnessStore(Access):
    # -- priorities --------------------------------------------------------------------------
    async def set_account_priority(self, username: str, priority: str) -> Row | None:
        """Give an account a queue priority; its row after, or None if there is no such account."""
        changed = await self._write(
            accounts.update().where(accounts.c.username == username).values(priority=priority)
        )
        if not changed:
            return None
        return await self._one(sa.select(accounts).where(accounts.c.username == username))

    async def set_token_priority(self, token_id: str, priority: str | None) -> Row | None:
        """Give a token its own queue priority (None: its account's); the token's id, account
        and priority after, or None if there is no such token."""
        changed = await self._write(
            tokens.update().where(tokens.c.id == token_id).values(priority=priority)
        )
        if not changed:
            return None
        query = sa.select(tokens.c.id, tokens.c.name, tokens.c.account_id, tokens.c.priority).where(
            tokens.c.id == token_id
        )
        return await self._one(query)

    async def waiting_count(self, account_id: str) -> int:
        """How many of an account's predictions wait to start."""

        def run(conn: sa.Connection) -> int:
            return int(conn.execute(_COUNT_WAITING, {"account_id": account_id}).scalar_one())

        return await self.db.read(run)

    # -- Idempotency-Key ---------------------------------------------------------------------
    async def find_idempotency_key(self, account_id: str, key: str) -> Row | None:
        return await self._one(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key
            )
        )

    async def reserve_idempotency_key(self, row: Row) -> bool:
        """Reserve a key for a new prediction; False when the account's key is taken (by a
        concurrent or earlier request)."""
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        insert = dialect.insert(idempotency_keys).values(**row).on_conflict_do_nothing()
        return bool(await self._write(insert))

    async def release_idempotency_key(self, account_id: str, key: str, prediction_id: str) -> None:
        """Give back a reservation whose prediction was never made (its create failed, or its
        request went away). Decided in the write itself, which is applied after the insert of
        a prediction submitted before it, so a prediction on its way keeps its key."""
        made = sa.exists().where(predictions.c.id == prediction_id)
        await self._write(
            idempotency_keys.delete().where(
                idempotency_keys.c.account_id == account_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.prediction_id == prediction_id,
                ~made,
            )
        )

    async def forget_idempotency_key(self, account_id: str, key: str, prediction_id: str) -> None:
        """Drop a reservation past its lifetime (a new request may use the key)."""
        await self._write(
            idempotency_keys.delete().where(
                idempotency_keys.c.account_id == account_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.prediction_id == prediction_id,
            )
        )

    async def prune_idempotency_keys(self, before: datetime) -> int:
        """Forget keys made before `before`; how many."""
        return await self._write(
            idempotency_keys.delete().where(idempotency_keys.c.created_at < before)
        )
