"""Writes that set money rules rather than move money: prices, an account's monthly limit and
alert settings, a token's monthly limit. Each is one statement list for the store's writer."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from pier.billing.ledger import ensure_balance
from pier.store.engine import Write
from pier.store.tables import balances, prices, tokens

UNSET = object()  # a field a request left out (None means "clear it")


def set_price(
    scope: str,
    key: str,
    now: datetime,
    *,
    per_second: int | None = None,
    per_run: int | None = None,
    per_unit: int | None = None,
    unit: str | None = None,
) -> list[Write]:
    """Replace the price of a hardware class or a model (one basis set, the others cleared)."""
    return [
        prices.delete().where(prices.c.scope == scope, prices.c.key == key),
        prices.insert().values(
            scope=scope,
            key=key,
            per_second_micros=per_second,
            per_run_micros=per_run,
            per_unit_micros=per_unit,
            unit=unit,
            updated_at=now,
        ),
    ]


def delete_price(scope: str, key: str) -> Write:
    return prices.delete().where(prices.c.scope == scope, prices.c.key == key)


def set_account_rules(
    account_id: str, now: datetime, dialect: str, changes: dict[str, object]
) -> list[Write]:
    """Monthly limit, low-balance threshold and alert webhook (only the keys given)."""
    values = {key: value for key, value in changes.items() if value is not UNSET}
    return [
        ensure_balance(account_id, now, dialect),
        balances.update()
        .where(balances.c.account_id == account_id)
        .values(**values, updated_at=now),
    ]


def set_token_limit(account_id: str, token_id: str, limit: int | None) -> Write:
    return (
        tokens.update()
        .where(tokens.c.id == token_id, tokens.c.account_id == account_id)
        .values(monthly_limit_micros=limit)
    )


def token_spend(conn: sa.Connection, account_id: str, token_id: str) -> dict[str, object] | None:
    row = conn.execute(
        sa.select(
            tokens.c.monthly_limit_micros,
            tokens.c.month,
            tokens.c.month_spent_micros,
            tokens.c.held_micros,
        ).where(tokens.c.id == token_id, tokens.c.account_id == account_id)
    ).first()
    return dict(row._mapping) if row is not None else None
