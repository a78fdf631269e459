"""What an account (or an admin) reads about money: the summary, the ledger, spend per day and
per model, and the prices. Reads only; every write is in ledger.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pier.billing.ledger import month_of
from pier.billing.money import usd
from pier.store import Row
from pier.store.tables import accounts, balances, ledger, models, prices
from pier.util import isoformat

# What each kind of entry does, seen from the account, to its balance, to what it may spend
# (available) and to what is held: each column sums to that figure over the whole ledger.
EFFECTS = {
    "topup": (1, 1, 0),
    "hold": (0, -1, 1),
    "release": (0, 1, -1),
    "charge": (-1, 0, -1),
}


def summary(row: Row | None, now: datetime) -> dict[str, Any]:
    """GET /v1/billing's object from a balances row (an account without one has nothing)."""
    row = row or {}
    available = int(row.get("available_micros") or 0)
    held = int(row.get("held_micros") or 0)
    month = month_of(now)
    spent = int(row.get("month_spent_micros") or 0) if row.get("month") == month else 0
    limit, low = row.get("monthly_limit_micros"), row.get("low_balance_micros")
    return {
        "balance_usd": usd(available + held),
        "held_usd": usd(held),
        "available_usd": usd(available),
        "spent_this_month_usd": usd(spent),
        "monthly_limit_usd": usd(limit) if limit is not None else None,
        "low_balance_alert_usd": usd(low) if low is not None else None,
        "alert_webhook": row.get("alert_webhook"),
        "total_spent_usd": usd(int(row.get("spent_micros") or 0)),
        "month": month,
        "currency": "USD",
    }


def balance_row(conn: sa.Connection, account_id: str) -> Row | None:
    found = conn.execute(sa.select(balances).where(balances.c.account_id == account_id)).first()
    return dict(found._mapping) if found is not None else None


def entries(
    conn: sa.Connection, account_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[Row]:
    """The account's ledger entries, newest first, after a (created_at, id) cursor."""
    query = sa.select(ledger).where(ledger.c.account_id == account_id)
    if after is not None:
        stamp, last_id = after
        query = query.where(
            sa.or_(
                ledger.c.created_at < stamp,
                sa.and_(ledger.c.created_at == stamp, ledger.c.id < last_id),
            )
        )
    query = query.order_by(ledger.c.created_at.desc(), ledger.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def entry_json(row: Row) -> dict[str, Any]:
    """An entry as the API shows it: `amount_usd` is what it did to the balance (a top-up adds,
    a charge takes; a hold or release moves money within it), `available_usd` and `held_usd`
    what it did to those parts of it."""
    amount = int(row["amount_micros"])
    balance, available, held = EFFECTS.get(row["kind"], (0, 0, 0))
    return {
        "id": row["id"],
        "created_at": isoformat(row["created_at"]),
        "kind": row["kind"],
        "amount_usd": usd(balance * amount),
        "available_usd": usd(available * amount),
        "held_usd": usd(held * amount),
        "prediction_id": row["prediction_id"],
        "model": row["model"],
        "memo": row["memo"],
    }


def usage(conn: sa.Connection, account_id: str, days: int, now: datetime) -> dict[str, Any]:
    """Charges per day (the last `days`, oldest first, every day listed) and per model."""
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = conn.execute(
        sa.select(ledger.c.created_at, ledger.c.model, ledger.c.amount_micros)
        .where(ledger.c.account_id == account_id, ledger.c.kind == "charge")
        .where(ledger.c.created_at >= since)
    )
    per_day: dict[str, int] = {}
    per_model: dict[str, list[int]] = {}
    for created_at, model, amount in rows:
        day = created_at.date().isoformat()
        per_day[day] = per_day.get(day, 0) + int(amount)
        spent = per_model.setdefault(model or "(deleted)", [0, 0])
        spent[0] += int(amount)
        spent[1] += 1
    day_list = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
    return {
        "days": [{"date": d, "spent_usd": usd(per_day.get(d, 0))} for d in day_list],
        "models": [
            {"model": name, "spent_usd": usd(spent), "runs": runs}
            for name, (spent, runs) in sorted(per_model.items(), key=lambda kv: -kv[1][0])
        ],
    }


def price_list(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(prices, models.c.owner, models.c.name)
        .outerjoin(models, sa.and_(prices.c.scope == "model", models.c.id == prices.c.key))
        .order_by(prices.c.scope, prices.c.key)
    )
    out = []
    for row in rows:
        item: dict[str, Any] = (
            {"hardware": row.key}
            if row.scope == "hardware"
            else {"model": f"{row.owner}/{row.name}" if row.owner else row.key}
        )
        for basis in ("per_second", "per_run", "per_unit"):
            micros = getattr(row, f"{basis}_micros")
            if micros is not None:
                item[f"{basis}_usd"] = usd(int(micros))
        if row.unit:
            item["unit"] = row.unit
        item["updated_at"] = isoformat(row.updated_at)
        out.append(item)
    return out


def all_balances(conn: sa.Connection, now: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(accounts.c.id, accounts.c.username, balances)
        .outerjoin(balances, balances.c.account_id == accounts.c.id)
        .order_by(accounts.c.username)
    )
    out = []
    for row in rows:
        data = dict(row._mapping)
        out.append(
            {"username": data["username"], **summary(data if data["account_id"] else None, now)}
        )
    return out
