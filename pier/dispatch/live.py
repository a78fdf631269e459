"""The in-memory state of a job (a prediction or a training) queued or running in this process.

The store is the record; a Live object is the working copy that the model's events update many
times a second. Changed fields are flushed to the store in batches and at the end.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pier.billing.prices import Price
from pier.jobs import TRANSITIONS, Phase, PredictionRecord, Status, job_pool
from pier.logtail import LogTail
from pier.store import Row


@dataclass(eq=False)
class Live:
    row: PredictionRecord
    version: Row
    phase: Phase = Phase.QUEUED
    done: asyncio.Event = field(default_factory=asyncio.Event)
    dirty: set[str] = field(default_factory=set)
    cancel_requested: bool = False
    claimed: bool = False  # a slot of this process took it from the queue
    # The insert of a job this process accepted, still committing when a slot may claim it:
    # the model runs the job only once it is recorded (a create that failed runs nothing).
    recorded: asyncio.Future[int] | None = None
    enqueued_at: float = field(default_factory=time.monotonic)
    setup_time: float | None = None
    file_rows: list[Row] = field(default_factory=list)
    logs: LogTail = field(default_factory=LogTail)  # the dispatcher sets the limit
    logs_due: bool = False  # a deferred copy of the logs into the row is scheduled
    preempted: bool = False  # a background job canceled to let a person's job run first
    # What it is charged at and what its credit hold reserves; None when it is free.
    price: Price | None = None
    held: int = 0
    stop_reason: str | None = None  # why Pier stopped it (its account can pay no more)

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def pool(self) -> str:
        """The queue line it waits in (pier.jobs.kind)."""
        return job_pool(self.row)

    @property
    def status(self) -> Status:
        return Status(self.row["status"])

    def move_to(self, status: Status, **fields: Any) -> None:
        assert status in TRANSITIONS[self.status], f"{self.status} -> {status} is not allowed"
        self.set(status=status.value, **fields)

    def set(self, **fields: Any) -> None:
        # Partial updates name columns by keyword: unchecked, and left uncast on this hot path.
        self.row.update(fields)  # type: ignore[typeddict-item]
        self.dirty.update(fields)

    def add_logs(self, text: str) -> bool:
        """Append to the logs; True if the row has them now, False if `sync_logs` is still due.

        Copying the log into the row costs its length, so it is done at once only while that is
        small against what arrived since the last copy; so the cost stays linear in the text.
        """
        self.logs.append(text)
        return self.logs.cheap_to_render() and self.sync_logs()

    def sync_logs(self) -> bool:
        """Bring `row["logs"]` up to date; True if it changed."""
        if not self.logs.changed:
            return False
        self.set(logs=self.logs.text())
        return True

    def take_dirty(self) -> dict[str, Any]:
        changed = {key: self.row[key] for key in self.dirty}  # type: ignore[literal-required]
        self.dirty.clear()
        return changed


def end_metrics(row: PredictionRecord, now: datetime, status: Status) -> dict[str, Any]:
    """A job's metrics as it ends now: its own, plus total and queue time (and no run time
    unless it succeeded)."""
    merged = dict(row.get("metrics") or {})
    started = row.get("started_at")
    merged["total_time"] = round((now - row["created_at"]).total_seconds(), 6)
    merged["queue_time"] = round(((started or now) - row["created_at"]).total_seconds(), 6)
    if status is not Status.SUCCEEDED:
        merged.setdefault("predict_time", 0.0)
    merged.setdefault("cost_usd", "0.00")  # what ran elsewhere, or not at all, costs nothing here
    return merged
