"""What a job costs as it ends, and keeping the credit holds of running per-second jobs ahead
of their cost (a job whose account can pay no more is stopped with a clear error)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pier.billing.ledger import InsufficientCredit
from pier.billing.service import Billing
from pier.dispatch.live import Live
from pier.jobs import Status
from pier.util import utcnow

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher

FLUSH_INTERVAL = 0.5  # seconds between the dispatcher's flushes, and between looks here


def job_cost(
    live: Live, status: Status, metrics: dict[str, Any], output: Any, now: datetime
) -> int:
    """Micro-dollars a job that ends now cost: nothing unless it holds credit."""
    if live.price is None or not live.held:
        return 0
    run_seconds = float(metrics.get("predict_time") or 0.0)
    started = live.row.get("started_at")
    if not run_seconds and started is not None:
        run_seconds = (now - started).total_seconds()
    succeeded = status is Status.SUCCEEDED
    return Billing.cost(
        live.price, live.held, succeeded=succeeded, run_seconds=run_seconds, output=output
    )


async def meter(dispatcher: Dispatcher) -> None:
    """Keep the holds of running jobs priced per second ahead of what they cost; a job whose
    account can pay no more is stopped with a clear error."""
    now = utcnow()
    for live in list(dispatcher.live.values()):
        started = live.row.get("started_at")
        if live.price is None or live.status is not Status.PROCESSING or started is None:
            continue
        if live.stop_reason is not None:
            continue
        run_seconds = (now - started).total_seconds()
        step, least = dispatcher.billing.extension_due(
            live.price, live.held, run_seconds, FLUSH_INTERVAL
        )
        if not step:
            continue
        try:
            more = await dispatcher.billing.extend(live.id, step, least)
        except InsufficientCredit as exc:
            live.stop_reason = (
                f"Stopped after {run_seconds:.1f} s: the account can pay for no more "
                f"running time. {exc.reason}"
            )
            asyncio.get_running_loop().create_task(dispatcher.cancel(live))
            continue
        live.held += more
