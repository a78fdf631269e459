"""Trainings, as Replicate's API has them: create from a version into a destination model, get,
list, cancel.

A training is a job of its own kind on the same engine as predictions (pier.jobs.kind): the
same checks, credit hold, queue, leases, logs, webhooks and stream. Its version's train() runs
in a model process started in train mode; when it succeeds, the weights it returned become a new
version of the destination model (pier/dispatch/training.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import fairness, openapi, serialize
from pier.api.deps import (
    AccountDep,
    ServicesDep,
    current_account,
    decode_time_cursor,
    encode_cursor,
    json_body,
    services,
)
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.api.routes.predictions import (
    PAGE_SIZE,
    _find,
    _submit,
    _validate,
    _webhook,
)
from pier.dispatch import Live
from pier.dispatch.rows import new_prediction
from pier.jobs import Kind, PredictionRecord, pool_key
from pier.store import Row

router = APIRouter()

NO_DESTINATION = "The specified training destination does not exist"
FINAL_WRITE_WAIT = 10.0  # seconds
CREATE = openapi.AUTHENTICATED | openapi.json_body(
    {
        "type": "object",
        "required": ["destination"],
        "properties": {
            "destination": {
                "type": "string",
                "description": "`owner/name` of one of your models: the new version goes there.",
            },
            "input": {
                "type": "object",
                "description": "train()'s inputs, as `TrainingInput` in the version's "
                "`openapi_schema` describes them.",
                "additionalProperties": True,
            },
            "webhook": {
                "type": "string",
                "description": "An http(s) URL that receives the training as it changes.",
            },
            "webhook_events_filter": {
                "type": "array",
                "description": "Which changes are sent to the webhook (default: all).",
                "items": {"type": "string", "enum": ["start", "output", "logs", "completed"]},
            },
        },
    }
)


async def _destination(svc: ServicesDep, account: Row, value: Any) -> Row:
    """The destination model: one of the caller's own (404, as on Replicate, otherwise)."""
    if value is None or value == "":
        raise ApiError(
            422,
            "- destination is required\n",
            "Input validation failed",
            invalid_fields=[{"type": "required", "field": "", "description": "destination"}],
        )
    if not isinstance(value, str):
        raise ApiError(
            422,
            "- destination: must be a string, owner/name\n",
            "Input validation failed",
            invalid_fields=[
                {"type": "invalid", "field": "destination", "description": "owner/name"}
            ],
        )
    owner, _, name = value.strip().partition("/")
    model = None
    if owner and name and "/" not in name:
        model = await svc.store.get_model(owner, name, account["id"])
    if model is None or model["account_id"] != account["id"]:
        raise ApiError(404, NO_DESTINATION, "Not found")
    return model


async def _render(
    svc: ServicesDep, row: PredictionRecord, live: Live | None = None
) -> dict[str, Any]:
    if live is not None and live.status.terminal:
        # Ended a moment ago: shown once its final write (with the new version) is stored, so
        # whoever sees `succeeded` finds the version.
        await svc.dispatcher.wait(live, FINAL_WRITE_WAIT)
    if live is not None:
        queue = await svc.dispatcher.queue_info(live)
    else:
        queue = await svc.dispatcher.elsewhere.queue_info(row)
    destination = await svc.dispatcher.know_destination(row)
    return serialize.training(row, svc.base_url, destination, queue)


@router.post(
    "/v1/models/{owner}/{name}/versions/{version_id}/trainings",
    status_code=201,
    openapi_extra=CREATE,
)
async def create_training(owner: str, name: str, version_id: str, request: Request) -> Response:
    svc = await services(request)
    account = await current_account(request, svc)
    model = await svc.store.get_model(owner, name, account["id"])
    if model is None:
        raise not_found(f"Model {owner}/{name}")
    version = await svc.store.get_version(model["id"], version_id)
    if version is None:
        raise not_found(f"Version {version_id} of {owner}/{name}")
    body = await json_body(request)
    destination = await _destination(svc, account, body.get("destination"))
    if not version.get("train_ref"):
        raise ApiError(
            422,
            f"{owner}/{name} cannot be trained: version {version_id} has no train() (its "
            "cog.yaml has no `train:` entry).",
            "Model cannot be trained",
        )
    shown, hidden = _validate(version, body.get("input"), "TrainingInput")
    webhook, events = _webhook(svc, body)
    gate = svc.gate
    await gate.check_rate(account)
    await gate.check_waiting(account)
    row = new_prediction(
        account["id"],
        model,
        version,
        shown,
        secret_input=hidden,
        source="web" if request.headers.get("x-pier-source") == "web" else "api",
        webhook=webhook,
        webhook_events_filter=events,
        lane=fairness.lane(account),
        kind=Kind.TRAINING,
        destination=destination["id"],
    )
    pool = pool_key(str(version["id"]), Kind.TRAINING)
    live = await _submit(svc, account, row, version, pool, "TrainingInput")
    gate.created(account)
    return json_response(await _render(svc, live.row if live else row, live), 201)


@router.get("/v1/trainings")
async def list_trainings(
    svc: ServicesDep, account: AccountDep, cursor: str | None = None
) -> Response:
    before = decode_time_cursor(cursor) if cursor else None
    rows = await svc.store.list_predictions(
        account["id"], before, PAGE_SIZE + 1, kind=Kind.TRAINING
    )
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        token = encode_cursor([last["created_at"].isoformat(), last["id"]])
        next_url = f"{svc.base_url}/v1/trainings?" + urlencode({"cursor": token})
    results = []
    for row in rows:
        live = svc.dispatcher.live.get(row["id"])
        results.append(await _render(svc, live.row if live else row, live))
    return json_response(serialize.page(results, next_url))


@router.get("/v1/trainings/{training_id}")
async def get_training(training_id: str, svc: ServicesDep, account: AccountDep) -> Response:
    row, live = await _find(svc, account, training_id, Kind.TRAINING)
    return json_response(await _render(svc, row, live))


@router.post("/v1/trainings/{training_id}/cancel")
async def cancel_training(training_id: str, svc: ServicesDep, account: AccountDep) -> Response:
    row, live = await _find(svc, account, training_id, Kind.TRAINING)
    if live is not None:
        await svc.dispatcher.cancel(live)
        return json_response(await _render(svc, live.row, svc.dispatcher.live.get(live.id)))
    row = await svc.dispatcher.cancel_stored(row)
    return json_response(await _render(svc, row))
