"""The record of a new job (a prediction or a training), as every path that creates one writes
it."""

from __future__ import annotations

from typing import Any

from pier.jobs import Kind, PredictionRecord, Status
from pier.queue import USER_LANE
from pier.store import Row
from pier.stream.events import new_stream_token
from pier.util import new_id, utcnow


def new_prediction(
    account_id: str,
    model: Row,
    version: Row,
    input: dict[str, Any],
    *,
    secret_input: dict[str, Any] | None = None,
    source: str = "api",
    webhook: str | None = None,
    webhook_events_filter: list[str] | None = None,
    tweaked_from: str | None = None,
    lane: int = USER_LANE,
    context: dict[str, str] | None = None,
    prediction_id: str | None = None,
    deployment: str | None = None,
    kind: Kind = Kind.PREDICTION,
    destination: str | None = None,
) -> PredictionRecord:
    """`prediction_id`: an id chosen before (an idempotent create reserves it first);
    `deployment`: the "owner/name" of the deployment it is made through. A training (`kind`)
    names the model its new version goes to (`destination`, that model's id)."""
    return {
        "id": prediction_id or new_id(),
        "account_id": account_id,
        "model_id": model["id"],
        "model": f"{model['owner']}/{model['name']}",
        "version": version["id"],
        "status": Status.STARTING.value,
        "input": input,
        "secret_input": secret_input or None,
        "output": None,
        "logs": "",
        "error": None,
        "metrics": {},
        "progress": None,
        "source": source,
        "webhook": webhook,
        "webhook_events_filter": webhook_events_filter,
        "stream_token": new_stream_token(version["openapi_schema"]),
        "created_at": utcnow(),
        "started_at": None,
        "completed_at": None,
        "worker_id": None,
        "lease_expires_at": None,
        "cancel_requested_at": None,
        "tweaked_from": tweaked_from,
        "lane": lane,
        "context": context or None,
        "kind": kind.value,
        "destination": destination,
        "deployment": deployment,
        "data_removed_at": None,
    }
