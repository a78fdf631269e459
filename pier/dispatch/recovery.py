"""What a starting process does about the jobs the previous one left (see dispatcher.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pier.dispatch.live import Live
from pier.jobs import Status
from pier.util import utcnow

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher

INTERRUPTED = "Pier stopped while this prediction was running, so it did not finish. Run it again."


async def recover(dispatcher: Dispatcher) -> None:
    """At start: forget the secrets of ended jobs; with the in-process queue, fail the jobs
    that were running when the server stopped and queue again those that waited, in order."""
    # Secrets of ended predictions go with their final write; earlier versions kept them.
    await dispatcher.store.forget_secrets(*(status.value for status in Status if status.terminal))
    if dispatcher.queue.record_first:
        return  # a shared queue keeps its jobs; the keeper ends what lost its process
    now = utcnow()
    for row in await dispatcher.store.predictions_with_status(Status.PROCESSING.value):
        metrics = dict(row["metrics"] or {})
        metrics["total_time"] = round((now - row["created_at"]).total_seconds(), 6)
        await dispatcher.fail_stored(
            row,
            status=Status.FAILED.value,
            error=INTERRUPTED,
            completed_at=now,
            metrics=metrics,
            secret_input=None,
        )
    versions = {(v["model_id"], v["id"]): v for v in await dispatcher.store.all_versions()}
    for row in await dispatcher.store.predictions_with_status(Status.STARTING.value):
        version = versions.get((row["model_id"], row["version"]))
        if version is None:
            await dispatcher.fail_stored(
                row,
                status=Status.FAILED.value,
                completed_at=now,
                error="The model version of this prediction no longer exists.",
                secret_input=None,
            )
            continue
        row.update({"worker_id": None, "lease_expires_at": None})
        live = Live(row=row, version=version)
        paid = await dispatcher.billing.running_price(row["id"], row["model_id"])
        if paid is not None:  # its hold is still open: it is charged when it runs
            live.price, live.held = paid
        await dispatcher._enqueue(live)
