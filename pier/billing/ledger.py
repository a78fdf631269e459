"""The ledger: holds, charges and top-ups as double-entry rows, with each account's running totals
(the `balances` row) updated in the same transaction.

Every function here that moves money returns a `Transaction` for the store's writer: it reads
what it must, checks, and writes, all inside one database transaction. The checks are guarded
updates (`... WHERE available_micros >= :amount`), which both SQLite (one writer at a time) and
PostgreSQL (the row is locked, and the condition checked again after the lock) apply
atomically: two creates racing for the last dollar cannot both get it.

Ledger accounts: "available:<id>" (credit an account may spend), "held:<id>" (reserved for
predictions that have not ended), "house:topups" (where credit comes from) and
"house:revenue" (where charges go). A hold moves money available → held; settling moves the
cost held → revenue and the rest held → available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pier.billing.money import usd
from pier.store.engine import Declined, Transaction, Write
from pier.store.tables import balances, holds, ledger, predictions, tokens
from pier.util import new_id

TERMINAL = ("succeeded", "failed", "canceled")
TOPUPS = "house:topups"
REVENUE = "house:revenue"


def available_account(account_id: str) -> str:
    return f"available:{account_id}"


def held_account(account_id: str) -> str:
    return f"held:{account_id}"


class InsufficientCredit(Declined):
    """A hold the account (or its token) cannot cover; says what there was and what was needed."""

    def __init__(self, available: int, needed: int, reason: str) -> None:
        super().__init__(reason)
        self.available = available
        self.needed = needed
        self.reason = reason


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


def _entry(
    account_id: str,
    kind: str,
    debit: str,
    credit: str,
    amount: int,
    now: datetime,
    *,
    prediction_id: str | None = None,
    model: str | None = None,
    memo: str | None = None,
) -> sa.Insert:
    return ledger.insert().values(
        id=new_id(),
        account_id=account_id,
        prediction_id=prediction_id,
        model=model,
        kind=kind,
        debit=debit,
        credit=credit,
        amount_micros=amount,
        memo=memo,
        created_at=now,
    )


def _this_month(table: sa.Table, month: str) -> sa.ColumnElement[int]:
    """What a balances or tokens row has spent in `month` (nothing if its month is older)."""
    return sa.case((table.c.month == month, table.c.month_spent_micros), else_=0)


def ensure_balance(account_id: str, now: datetime, dialect: str) -> sa.Insert:
    """The account's balances row, made empty if it has none yet."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    return insert(balances).values(account_id=account_id, updated_at=now).on_conflict_do_nothing()


@dataclass(frozen=True)
class Hold:
    account_id: str
    token_id: str | None
    prediction_id: str
    model: str
    amount: int
    price: dict[str, Any]


def _reserve(conn: sa.Connection, account_id: str, amount: int, now: datetime) -> None:
    """Move `amount` from available to held if the account can pay it and stay within its
    monthly limit; else raise InsufficientCredit, having written nothing."""
    month = month_of(now)
    spent = _this_month(balances, month)
    done = conn.execute(
        balances.update()
        .where(balances.c.account_id == account_id)
        .where(balances.c.available_micros >= amount)
        .where(
            sa.or_(
                balances.c.monthly_limit_micros.is_(None),
                spent + balances.c.held_micros + amount <= balances.c.monthly_limit_micros,
            )
        )
        .values(
            available_micros=balances.c.available_micros - amount,
            held_micros=balances.c.held_micros + amount,
            month_spent_micros=spent,
            month=month,
            updated_at=now,
        )
    )
    if done.rowcount == 1:
        return
    row = conn.execute(sa.select(balances).where(balances.c.account_id == account_id)).first()
    if row is None or row.available_micros < amount:
        available = row.available_micros if row is not None else 0
        raise InsufficientCredit(
            available,
            amount,
            f"This needs {usd(amount)} USD of credit and the account has {usd(available)} USD "
            "available (its balance less what running predictions hold). An admin adds credit "
            "on the admin page or with `pier credit add`.",
        )
    left = max(0, row.monthly_limit_micros - _spent_in(row, month) - row.held_micros)
    raise InsufficientCredit(
        left,
        amount,
        f"This needs {usd(amount)} USD and the account's monthly spend limit of "
        f"{usd(row.monthly_limit_micros)} USD leaves {usd(left)} USD this month. Raise the "
        "limit on the billing page, or wait for next month.",
    )


def _spent_in(row: Any, month: str) -> int:
    return int(row.month_spent_micros) if row.month == month else 0


def _reserve_token(conn: sa.Connection, token_id: str, amount: int, now: datetime) -> bool:
    month = month_of(now)
    spent = _this_month(tokens, month)
    done = conn.execute(
        tokens.update()
        .where(tokens.c.id == token_id)
        .where(
            sa.or_(
                tokens.c.monthly_limit_micros.is_(None),
                spent + tokens.c.held_micros + amount <= tokens.c.monthly_limit_micros,
            )
        )
        .values(held_micros=tokens.c.held_micros + amount, month_spent_micros=spent, month=month)
    )
    return done.rowcount == 1


def _unreserve(conn: sa.Connection, account_id: str, amount: int, now: datetime) -> None:
    conn.execute(
        balances.update()
        .where(balances.c.account_id == account_id)
        .values(
            available_micros=balances.c.available_micros + amount,
            held_micros=balances.c.held_micros - amount,
            updated_at=now,
        )
    )


def _token_refusal(conn: sa.Connection, token_id: str, amount: int, now: datetime) -> Declined:
    row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
    limit = int(row.monthly_limit_micros or 0) if row is not None else 0
    left = max(
        0, limit - (_spent_in(row, month_of(now)) if row else 0) - (row.held_micros if row else 0)
    )
    return InsufficientCredit(
        left,
        amount,
        f"This needs {usd(amount)} USD and this API token's monthly spend limit of {usd(limit)} "
        f"USD leaves {usd(left)} USD this month.",
    )


def place_hold(hold: Hold, now: datetime, then: Sequence[Write] = ()) -> Transaction:
    """Reserve a new prediction's hold, record it, and apply `then` (the prediction's insert)
    in the same transaction; InsufficientCredit when it cannot be paid (nothing written)."""

    def run(conn: sa.Connection) -> int:
        _reserve(conn, hold.account_id, hold.amount, now)
        if hold.token_id is not None and not _reserve_token(conn, hold.token_id, hold.amount, now):
            _unreserve(conn, hold.account_id, hold.amount, now)
            raise _token_refusal(conn, hold.token_id, hold.amount, now)
        conn.execute(
            holds.insert().values(
                prediction_id=hold.prediction_id,
                account_id=hold.account_id,
                token_id=hold.token_id,
                amount_micros=hold.amount,
                status="open",
                price=hold.price,
                created_at=now,
            )
        )
        conn.execute(
            _entry(
                hold.account_id,
                "hold",
                available_account(hold.account_id),
                held_account(hold.account_id),
                hold.amount,
                now,
                prediction_id=hold.prediction_id,
                model=hold.model,
            )
        )
        count = 1
        for statement in then:
            if isinstance(statement, tuple):
                result = conn.execute(statement[0], statement[1])
            else:
                result = conn.execute(statement)
            count += result.rowcount or 0
        return count

    return run


def extend_hold(prediction_id: str, amount: int, now: datetime) -> Transaction:
    """Hold `amount` more for a running prediction; InsufficientCredit when the account (or its
    token) cannot, Declined when the hold was already settled."""

    def run(conn: sa.Connection) -> int:
        row = conn.execute(
            sa.select(holds).where(holds.c.prediction_id == prediction_id, holds.c.status == "open")
        ).first()
        if row is None:
            raise Declined("the hold is settled")
        _reserve(conn, row.account_id, amount, now)
        if row.token_id is not None and not _reserve_token(conn, row.token_id, amount, now):
            _unreserve(conn, row.account_id, amount, now)
            raise _token_refusal(conn, row.token_id, amount, now)
        conn.execute(
            holds.update()
            .where(holds.c.prediction_id == prediction_id)
            .values(amount_micros=holds.c.amount_micros + amount)
        )
        model = conn.execute(
            sa.select(predictions.c.model).where(predictions.c.id == prediction_id)
        ).scalar()
        conn.execute(
            _entry(
                row.account_id,
                "hold",
                available_account(row.account_id),
                held_account(row.account_id),
                amount,
                now,
                prediction_id=prediction_id,
                model=model,
                memo="extended while running",
            )
        )
        return 1

    return run


@dataclass(frozen=True)
class Settled:
    account_id: str
    cost: int


def settle(prediction_id: str, now: datetime, out: list[Settled] | None = None) -> Transaction:
    """Settle an ended prediction's hold once: charge its cost (metrics.cost_usd, never more
    than was held) and give back the rest. Nothing when it has no open hold or has not ended."""
    from pier.billing.money import BadAmount, parse_usd

    def run(conn: sa.Connection) -> int:
        hold = conn.execute(
            sa.select(holds).where(holds.c.prediction_id == prediction_id, holds.c.status == "open")
        ).first()
        if hold is None:
            return 0
        job = conn.execute(
            sa.select(predictions.c.status, predictions.c.metrics, predictions.c.model).where(
                predictions.c.id == prediction_id
            )
        ).first()
        if job is not None and job.status not in TERMINAL:
            return 0
        cost = 0
        if job is not None:
            try:
                cost = parse_usd((job.metrics or {}).get("cost_usd", 0))
            except BadAmount:
                cost = 0
        amount = int(hold.amount_micros)
        cost = min(cost, amount)
        done = conn.execute(
            holds.update()
            .where(holds.c.prediction_id == prediction_id, holds.c.status == "open")
            .values(status="settled", cost_micros=cost, settled_at=now)
        )
        if done.rowcount != 1:
            return 0  # settled by someone else just now
        month = month_of(now)
        account_id = hold.account_id
        conn.execute(
            balances.update()
            .where(balances.c.account_id == account_id)
            .values(
                held_micros=balances.c.held_micros - amount,
                available_micros=balances.c.available_micros + (amount - cost),
                spent_micros=balances.c.spent_micros + cost,
                month_spent_micros=_this_month(balances, month) + cost,
                month=month,
                updated_at=now,
            )
        )
        if hold.token_id is not None:
            conn.execute(
                tokens.update()
                .where(tokens.c.id == hold.token_id)
                .values(
                    held_micros=tokens.c.held_micros - amount,
                    month_spent_micros=_this_month(tokens, month) + cost,
                    month=month,
                )
            )
        model = job.model if job is not None else None
        if cost:
            conn.execute(
                _entry(
                    account_id,
                    "charge",
                    held_account(account_id),
                    REVENUE,
                    cost,
                    now,
                    prediction_id=prediction_id,
                    model=model,
                )
            )
        if amount - cost:
            conn.execute(
                _entry(
                    account_id,
                    "release",
                    held_account(account_id),
                    available_account(account_id),
                    amount - cost,
                    now,
                    prediction_id=prediction_id,
                    model=model,
                )
            )
        if out is not None:
            out.append(Settled(account_id, cost))
        return 1

    return run


def top_up(
    account_id: str, amount: int, memo: str | None, now: datetime, dialect: str
) -> Transaction:
    """Add credit to an account (an admin's top-up)."""

    def run(conn: sa.Connection) -> int:
        conn.execute(ensure_balance(account_id, now, dialect))
        conn.execute(
            balances.update()
            .where(balances.c.account_id == account_id)
            .values(available_micros=balances.c.available_micros + amount, updated_at=now)
        )
        conn.execute(
            _entry(
                account_id, "topup", TOPUPS, available_account(account_id), amount, now, memo=memo
            )
        )
        return 1

    return run


def recompute(conn: sa.Connection) -> dict[str, dict[str, int]]:
    """Every account's available, held and spent amounts summed from the ledger alone."""
    totals: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        sa.select(
            ledger.c.account_id,
            ledger.c.kind,
            ledger.c.debit,
            ledger.c.credit,
            sa.func.sum(ledger.c.amount_micros),
        ).group_by(ledger.c.account_id, ledger.c.kind, ledger.c.debit, ledger.c.credit)
    )
    for account_id, kind, debit, credit, amount in rows:
        mine = totals.setdefault(account_id, {"available": 0, "held": 0, "spent": 0})
        amount = int(amount)
        for side, sign in ((credit, 1), (debit, -1)):
            if side == available_account(account_id):
                mine["available"] += sign * amount
            elif side == held_account(account_id):
                mine["held"] += sign * amount
        if kind == "charge":
            mine["spent"] += amount
    return totals
