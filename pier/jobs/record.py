"""The record of a job (a prediction or a training): the row the store keeps and every layer
passes along.

A `TypedDict`, so the record stays the plain dict that the store hands back and writes in batches
(nothing is copied or converted on the prediction path) while mypy checks each key read by name.
Its keys are the columns of the `predictions` table, each with the type the store gives back;
a test keeps the two equal. Partial updates (`status=..., output=...`) stay plain keyword dicts.
This module imports only the standard library, like the rest of the package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class PredictionRecord(TypedDict):
    id: str
    account_id: str
    model_id: str
    model: str  # "owner/name"
    version: str  # the version's id
    status: str  # a `Status` value; the store keeps the plain string
    input: dict[str, Any]
    secret_input: dict[str, Any] | None  # None once the prediction has ended
    output: Any  # whatever the model returned, as JSON
    logs: str
    error: str | None
    metrics: dict[str, Any]
    progress: dict[str, Any] | None  # {"percent", "current", "total"}
    source: str  # "web" (playground), "api" or "example" (made at first start)
    webhook: str | None
    webhook_events_filter: list[str] | None
    stream_token: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    worker_id: str | None  # the process that holds it
    lease_expires_at: datetime | None
    cancel_requested_at: datetime | None
    tweaked_from: str | None  # the prediction this one was tweaked from
    lane: int  # queue lane (pier.queue.LANES): 0-2 for people by priority, 3 for background work
    context: dict[str, str] | None  # the request's context, for current_scope().context
    kind: str  # a `Kind` value: "prediction" or "training"
    destination: str | None  # a training's destination model (its id); None for predictions
    deployment: str | None  # "owner/name" of the deployment it was made through
    data_removed_at: datetime | None  # when its input, output, logs and files were removed
