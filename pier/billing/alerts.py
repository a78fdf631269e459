"""Billing alerts: an e-mail and a webhook when an account crosses a line it should hear about.

`check(ctx, account_id)` runs after each charge settles. It reads the account's balance row and
sends what has become due, each alert once per threshold and period:

- `first_dollar`: the account has spent $1 in all (period `all`: once ever);
- `monthly_limit_50`, `_80`, `_100`: this month's spend reached that share of the monthly limit.
  The period is the month and the limit (`2026-11:10000000`), so a new month, or a changed
  limit, arms them again. When several are crossed at once only the highest is sent (the
  others are recorded as sent, so they do not follow later);
- `low_balance`: the balance (available plus held) fell below the account's own threshold. The
  period is the threshold and the credit the account has ever been given (balance plus all it
  spent), so it arms again whenever credit is added (a top-up) or the threshold is changed: after
  a top-up that lifts the balance above the threshold, the next fall below it is told again; after
  one that does not, the next charge tells once more that the balance is still low.

An alert's row in `alerts_sent` is inserted before it is sent, and only the process whose insert
took place sends it, so two processes checking at once never send it twice. Sending happens in
the background: e-mail to the account's address (when `smtp_host` is set and the account has one)
and a webhook to the balance row's `alert_webhook` (when set), signed with the account's webhook
secret like Pier's other webhooks. A failed send is tried again a few times with growing delays,
then given up and logged; nothing here raises into the caller. An alert whose process stops
before it is sent is not sent later (at most once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pier.billing import mail
from pier.billing.money import MICROS, usd
from pier.settings import Settings
from pier.store import Row, Store
from pier.store.cache import LRU
from pier.store.tables import accounts, alerts_sent, balances
from pier.util import isoformat, utcnow
from pier.webhooks import signing
from pier.webhooks.targets import TargetRefused, check_url

log = logging.getLogger(__name__)

FIRST_DOLLAR = MICROS
LIMIT_PERCENTS = (50, 80, 100)
KNOWN_ENTRIES = 10_000  # alerts this process knows were sent (it skips asking the store)


@dataclass
class AlertContext:
    """What checking and sending alerts needs. `http` should be a webhook client
    (`pier.webhooks.client(settings.allow_private_webhooks, ...)`), so that an alert webhook
    cannot be aimed into the operator's own network."""

    settings: Settings
    store: Store
    http: httpx.AsyncClient
    retry_delays: tuple[float, ...] = (5.0, 30.0, 120.0)  # between attempts of one send
    known: LRU[tuple[str, str, str], bool] = field(default_factory=lambda: LRU(KNOWN_ENTRIES))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def drain(self, timeout: float) -> bool:
        """Wait until every send under way is done or given up (shutdown and tests)."""
        deadline = time.monotonic() + timeout
        while self.tasks and time.monotonic() < deadline:
            await asyncio.wait(list(self.tasks), timeout=deadline - time.monotonic())
        return not self.tasks

    async def close(self) -> None:
        """Stop the sends under way (their alerts are not sent)."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass(frozen=True)
class Alert:
    kind: str
    period: str
    threshold_micros: int


def due(row: Row) -> list[Alert]:
    """Every alert a balance row calls for now, sent or not."""
    found = []
    if row["spent_micros"] >= FIRST_DOLLAR:
        found.append(Alert("first_dollar", "all", FIRST_DOLLAR))
    limit = row["monthly_limit_micros"]
    if limit is not None and limit > 0 and row["month"]:
        for percent in LIMIT_PERCENTS:
            if row["month_spent_micros"] * 100 >= limit * percent:
                period = f"{row['month']}:{limit}"
                found.append(Alert(f"monthly_limit_{percent}", period, limit * percent // 100))
    low = row["low_balance_micros"]
    balance = row["available_micros"] + row["held_micros"]
    if low is not None and balance < low:
        funded = balance + row["spent_micros"]
        found.append(Alert("low_balance", f"{low}:{funded}", low))
    return found


def to_send(won: list[Alert]) -> list[Alert]:
    """Of the alerts just recorded, those to send: only the highest monthly limit share."""
    limits = [a for a in won if a.kind.startswith("monthly_limit_")]
    others = [a for a in won if a not in limits]
    return others + limits[-1:]  # `due` lists the limit shares lowest first


async def check(ctx: AlertContext, account_id: str) -> None:
    """Record and start sending every alert that an account's balance calls for and that has
    not been sent. One read when nothing is due; never raises (failures are logged)."""
    try:
        row = await _balance(ctx.store, account_id)
        if row is None:
            return
        pending = [a for a in due(row) if (account_id, a.kind, a.period) not in ctx.known]
        if not pending:
            return
        pending = await _unsent(ctx, account_id, pending)
        if not pending:
            return
        now = utcnow()
        won = await _record(ctx, account_id, pending, now)
        for alert in to_send(won):
            _spawn(ctx, _deliver(ctx, alert, row, now))
    except Exception:
        log.exception("checking billing alerts of account %s failed", account_id)


# -- the store ----------------------------------------------------------------------------------
async def _balance(store: Store, account_id: str) -> Row | None:
    query = (
        sa.select(balances, accounts.c.username, accounts.c.email, accounts.c.webhook_secret)
        .join(accounts, accounts.c.id == balances.c.account_id)
        .where(balances.c.account_id == account_id)
    )

    def run(conn: sa.Connection) -> Row | None:
        found = conn.execute(query).mappings().first()
        return dict(found) if found else None

    return await store.db.read(run)


async def _unsent(ctx: AlertContext, account_id: str, pending: list[Alert]) -> list[Alert]:
    """The alerts of `pending` with no row in alerts_sent (the others are remembered)."""
    query = sa.select(alerts_sent.c.kind, alerts_sent.c.period).where(
        alerts_sent.c.account_id == account_id,
        sa.or_(
            *(
                sa.and_(alerts_sent.c.kind == a.kind, alerts_sent.c.period == a.period)
                for a in pending
            )
        ),
    )

    def run(conn: sa.Connection) -> set[tuple[str, str]]:
        return {(kind, period) for kind, period in conn.execute(query)}

    sent = await ctx.store.db.read(run)
    for kind, period in sent:
        ctx.known.put((account_id, kind, period), True)
    return [a for a in pending if (a.kind, a.period) not in sent]


async def _record(
    ctx: AlertContext, account_id: str, pending: list[Alert], now: datetime
) -> list[Alert]:
    """Insert each alert's row unless it is there; the alerts whose insert took place."""
    db = ctx.store.db
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    inserts = [
        dialect.insert(alerts_sent)
        .values(account_id=account_id, kind=a.kind, period=a.period, sent_at=now)
        .on_conflict_do_nothing()
        for a in pending
    ]
    counts = await asyncio.gather(*(db.write(statement) for statement in inserts))
    for alert in pending:
        ctx.known.put((account_id, alert.kind, alert.period), True)
    return [alert for alert, count in zip(pending, counts, strict=True) if count]


# -- what is said -------------------------------------------------------------------------------
def subject(alert: Alert, row: Row) -> str:
    threshold = usd(alert.threshold_micros)
    if alert.kind == "first_dollar":
        return f"Pier: {row['username']} has spent its first ${threshold}"
    if alert.kind == "low_balance":
        balance = usd(row["available_micros"] + row["held_micros"])
        return f"Pier: {row['username']}'s balance is below ${threshold} (${balance} left)"
    percent = alert.kind.rpartition("_")[2]
    spent, limit = usd(row["month_spent_micros"]), usd(row["monthly_limit_micros"])
    return f"Pier: {percent}% of {row['username']}'s monthly limit used (${spent} of ${limit})"


def text(alert: Alert, row: Row, base_url: str) -> str:
    """The e-mail's body: what happened, the figures, and where to look."""
    name = row["username"]
    threshold = usd(alert.threshold_micros)
    balance = usd(row["available_micros"] + row["held_micros"])
    spent, month = usd(row["month_spent_micros"]), row["month"]
    limit = row["monthly_limit_micros"]
    if alert.kind == "first_dollar":
        total = usd(row["spent_micros"])
        what = f"The account {name} has now spent ${total} in all: its first dollar."
    elif alert.kind == "low_balance":
        what = (
            f"The balance of the account {name} is ${balance}, below the ${threshold} you asked "
            "to be told about. When it runs out, new predictions are refused until an "
            "administrator adds credit."
        )
    else:
        percent = alert.kind.rpartition("_")[2]
        what = (
            f"The account {name} has spent ${spent} in {month}, {percent}% or more of its "
            f"monthly limit of ${usd(limit)}."
        )
        if percent == "100":
            what += (
                " Predictions that would go past the limit are refused until the month ends "
                "or the limit is raised."
            )
    lines = [
        what,
        "",
        f"Spent in {month}: ${spent}" + (f" of a ${usd(limit)} limit" if limit else " (no limit)"),
        f"Balance: ${balance}",
        f"Spent in all: ${usd(row['spent_micros'])}",
        "",
        "See your spending, and change your limit and alerts, at:",
        f"{base_url}/billing",
    ]
    return "\n".join(lines) + "\n"


def event(alert: Alert, row: Row, created_at: datetime) -> dict[str, Any]:
    """The webhook's body."""
    limit = row["monthly_limit_micros"]
    return {
        "type": "billing.alert",
        "kind": alert.kind,
        "account": row["username"],
        "message": subject(alert, row).removeprefix("Pier: "),
        "threshold_usd": usd(alert.threshold_micros),
        "spent_this_month_usd": usd(row["month_spent_micros"]),
        "monthly_limit_usd": None if limit is None else usd(limit),
        "month": row["month"],
        "balance_usd": usd(row["available_micros"] + row["held_micros"]),
        "total_spent_usd": usd(row["spent_micros"]),
        "created_at": isoformat(created_at),
    }


# -- sending ------------------------------------------------------------------------------------
def _spawn(ctx: AlertContext, work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    ctx.tasks.add(task)
    task.add_done_callback(ctx.tasks.discard)


async def _deliver(ctx: AlertContext, alert: Alert, row: Row, created_at: datetime) -> None:
    """Send an alert by e-mail and webhook, whichever the account has, at the same time."""
    name = f"{alert.kind} alert of {row['username']}"
    address, url = row.get("email"), row["alert_webhook"]
    message = None
    if mail.enabled(ctx.settings) and address:
        words = text(alert, row, ctx.settings.base_url)
        try:
            message = mail.message(ctx.settings, address, subject(alert, row), words)
        except ValueError as exc:  # an address that cannot be a mail header
            log.error("e-mail %s not sent: %s", name, exc)
    sends = []
    if message is not None:
        mailed = message

        async def send_mail() -> None:
            await mail.send(ctx.settings, mailed)

        sends.append(_retried(ctx, f"e-mail {name} to {address}", send_mail))
    if url:
        body = json.dumps(event(alert, row, created_at), separators=(",", ":")).encode()
        message_id = signing.new_message_id()

        async def post() -> None:
            await _post(ctx, str(url), str(row["webhook_secret"]), message_id, body)

        sends.append(_retried(ctx, f"webhook {name} to {url}", post))
    await asyncio.gather(*sends)


async def _post(ctx: AlertContext, url: str, secret: str, message_id: str, body: bytes) -> None:
    check_url(url, ctx.settings.allow_private_webhooks)  # the operator's rule, as it is now
    headers = signing.headers(secret, message_id, int(time.time()), body)
    headers["user-agent"] = "pier-webhooks/0.1"
    response = await ctx.http.post(url, content=body, headers=headers)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"the receiver answered HTTP {response.status_code}")


async def _retried(ctx: AlertContext, what: str, attempt: Callable[[], Awaitable[None]]) -> None:
    """Run `attempt` until it succeeds or the retries are spent; failures are logged."""
    tries = len(ctx.retry_delays) + 1
    for number in range(1, tries + 1):
        try:
            await attempt()
            return
        except TargetRefused as exc:
            log.warning("%s not sent: the address %s", what, exc)
            return
        except Exception as exc:
            if number == tries:
                log.error("%s: gave up after %d attempts (%s)", what, tries, _reason(exc))
                return
            delay = ctx.retry_delays[number - 1]
            log.warning(
                "%s: attempt %d of %d failed (%s); next in %g s",
                what,
                number,
                tries,
                _reason(exc),
                delay,
            )
            await asyncio.sleep(delay)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
