"""Billing as the job engine sees it: the price of a run, its hold when accepted, extensions
while it runs, and settling when it ends. One per process (the dispatcher holds it)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa

from pier.billing import ledger
from pier.billing.ledger import Hold, InsufficientCredit, Settled
from pier.billing.money import usd
from pier.billing.prices import PER_SECOND, Price, choose, cost_of, hold_for
from pier.jobs import PredictionRecord
from pier.settings import Settings
from pier.store import Store
from pier.store.cache import LRU
from pier.store.engine import Declined, Write
from pier.store.tables import holds, predictions, prices
from pier.util import utcnow

log = logging.getLogger(__name__)

PRICE_TTL = 5.0  # seconds a looked-up price is reused (a change takes effect within this)
SWEEP_AGE = 30.0  # seconds an ended prediction's hold may stay open before the sweep settles it


class Billing:
    def __init__(self, settings: Settings, store: Store, hardware: str = "cpu") -> None:
        self.settings = settings
        self.store = store
        self.hardware = hardware  # the class this process's model processes run on
        self._prices: LRU[tuple[str, str], tuple[float, Price]] = LRU(1024)
        # Called with each settled charge (the alerts hang here).
        self.on_charge: Callable[[Settled], None] = lambda settled: None

    # -- prices ------------------------------------------------------------------------------
    async def price(self, model_id: str, hardware: str | None = None) -> Price:
        hardware = hardware or self.hardware
        key = (model_id, hardware)
        now = time.monotonic()
        cached = self._prices.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]

        def read(conn: sa.Connection) -> Price:
            rows = conn.execute(
                sa.select(prices).where(
                    sa.or_(
                        sa.and_(prices.c.scope == "model", prices.c.key == model_id),
                        sa.and_(prices.c.scope == "hardware", prices.c.key == hardware),
                    )
                )
            ).mappings()
            by_scope = {row["scope"]: dict(row) for row in rows}
            return choose(by_scope.get("model"), by_scope.get("hardware"), hardware)

        price = await self.store.db.read(read)
        self._prices.put(key, (now + PRICE_TTL, price))
        return price

    def forget_prices(self) -> None:
        """A price changed here: look prices up afresh (other processes do within PRICE_TTL)."""
        self._prices = LRU(1024)

    # -- accepting ---------------------------------------------------------------------------
    async def hold_for(
        self,
        row: PredictionRecord,
        token_id: str | None,
        typical_run: Callable[[], Awaitable[float | None]],
    ) -> Hold | None:
        """The hold a new prediction needs; None when it is free (nothing to reserve).
        `typical_run` gives the version's recent run time, asked only for a price per second."""
        if row["source"] == "example":
            return None  # the first-start examples are Pier's own work
        price = await self.price(row["model_id"])
        if price.free:
            return None
        seconds = self.settings.billing_hold_seconds
        if price.basis == PER_SECOND and (typical := await typical_run()) is not None:
            seconds = max(seconds, typical * 1.5)
        amount = hold_for(price, row["input"], min(seconds, self.settings.prediction_timeout))
        if amount <= 0:
            return None
        return Hold(row["account_id"], token_id, row["id"], row["model"], amount, price.to_json())

    async def record_with_hold(self, hold: Hold, then: Sequence[Write]) -> None:
        """Reserve the hold and apply `then` (the prediction's insert) in one transaction; raises
        InsufficientCredit (nothing written) when the account cannot pay it."""
        await self.store.db.transact(ledger.place_hold(hold, utcnow(), then))

    # -- running -----------------------------------------------------------------------------
    async def running_price(self, prediction_id: str, model_id: str) -> tuple[Price, int] | None:
        """The price a job run here is charged at, and what its hold reserves; None if it has
        no hold (it is free)."""
        held = await self.store.db.read(
            lambda conn: conn.execute(
                sa.select(holds.c.amount_micros).where(
                    holds.c.prediction_id == prediction_id, holds.c.status == "open"
                )
            ).scalar()
        )
        if held is None:
            return None
        return await self.price(model_id), int(held)

    def extension_due(
        self, price: Price, held: int, run_seconds: float, every: float
    ) -> tuple[int, int]:
        """How much more to hold for a job priced per second that has run `run_seconds`: a full
        step (`billing_hold_seconds` of running), and the least that keeps the hold ahead of
        its cost until the next look in `every` seconds; (0, 0) when none is due."""
        if price.basis != PER_SECOND or price.free:
            return 0, 0
        needed = math.ceil(price.micros * (run_seconds + 2 * every))
        if needed <= held:
            return 0, 0
        step = math.ceil(price.micros * self.settings.billing_hold_seconds)
        return max(step, needed - held), needed - held

    async def extend(self, prediction_id: str, step: int, least: int) -> int:
        """Hold more for a running job: a full step, or when the account cannot pay that, all
        it can if that is at least `least`; how much was held. Raises InsufficientCredit when
        the account cannot pay even `least`."""
        try:
            await self.store.db.transact(ledger.extend_hold(prediction_id, step, utcnow()))
            return step
        except InsufficientCredit as exc:
            if exc.available < least or exc.available >= step:
                raise
            await self.store.db.transact(ledger.extend_hold(prediction_id, exc.available, utcnow()))
            return exc.available

    @staticmethod
    def cost(price: Price, held: int, *, succeeded: bool, run_seconds: float, output: Any) -> int:
        return min(
            held, cost_of(price, succeeded=succeeded, run_seconds=run_seconds, output=output)
        )

    # -- ending ------------------------------------------------------------------------------
    async def settle(self, prediction_id: str) -> None:
        """Charge an ended job's cost (its metrics.cost_usd) and release the rest of its hold."""
        settled: list[Settled] = []
        try:
            await self.store.db.transact(ledger.settle(prediction_id, utcnow(), settled))
        except Declined:
            return
        for item in settled:
            if item.cost:
                self.on_charge(item)

    async def sweep(self, limit: int = 100) -> int:
        """Settle holds left open by jobs that ended without settling (a process that stopped
        between the two writes); how many were looked at."""
        before = utcnow()

        def read(conn: sa.Connection) -> list[str]:
            query = (
                sa.select(holds.c.prediction_id)
                .outerjoin(predictions, predictions.c.id == holds.c.prediction_id)
                .where(holds.c.status == "open")
                .where(
                    sa.or_(
                        predictions.c.id.is_(None),
                        predictions.c.status.in_(ledger.TERMINAL),
                    )
                )
                .order_by(holds.c.created_at)
                .limit(limit)
            )
            return [row[0] for row in conn.execute(query)]

        found = await self.store.db.read(read)
        for prediction_id in found:
            await self.settle(prediction_id)
        del before
        return len(found)


def describe(price: Price) -> str:
    """A price in words: "0.0001 USD per second on cpu"."""
    if price.free:
        return "free"
    per = {PER_SECOND: f"per second on {price.hardware}"}.get(price.basis)
    if per is None:
        per = "per run" if price.basis == "per_run" else f"per {price.unit or 'output'}"
    return f"{usd(price.micros)} USD {per}"


async def gather_settles(billing: Billing, ids: Sequence[str]) -> None:
    await asyncio.gather(*(billing.settle(pid) for pid in ids))
