"""Predictions: create (by version or by model), get, list, cancel; `Prefer: wait`."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import fairness, openapi, serialize
from pier.api.context import parse_context
from pier.api.deps import (
    AccountDep,
    ServicesDep,
    current_account,
    decode_time_cursor,
    encode_cursor,
    json_body,
    services,
)
from pier.api.errors import ApiError, insufficient_credit, not_found
from pier.api.jsonresponse import json_response
from pier.billing.ledger import InsufficientCredit
from pier.dispatch import Live, retention
from pier.dispatch.pool import file_fields
from pier.dispatch.rows import new_prediction
from pier.files import DATA_URI_INLINE_CHARS, FileError, decode_data_uri, public_url
from pier.jobs import Kind, PredictionRecord, Status
from pier.sdk.validate import InvalidField, format_invalid_fields, validate_input
from pier.store import Row
from pier.util import utcnow
from pier.webhooks import TargetRefused, check_events, check_url

router = APIRouter()

PREFER_WAIT = re.compile(r"^\s*wait(?:\s*=\s*(\d+))?\s*$", re.IGNORECASE)
MAX_WAIT = 60
SECRET_MASK = "**********"
PAGE_SIZE = 100
VERSION_REF = re.compile(r"^(?:(?P<owner>[^/:\s]+)/(?P<name>[^/:\s]+))?:?(?P<id>[0-9a-f]{64})?$")


@dataclass(frozen=True)
class Deployed:
    """What a prediction made through a deployment runs: its current release's model and
    version, and the deployment's "owner/name"."""

    name: str
    model: Row
    version: Row


def parse_prefer(header: str | None) -> int | None:
    """Seconds to hold the request open, from `Prefer: wait` / `wait=N` (clamped to 1..60)."""
    if not header:
        return None
    for part in header.split(","):
        match = PREFER_WAIT.match(part)
        if match:
            seconds = int(match.group(1)) if match.group(1) else MAX_WAIT
            return max(1, min(MAX_WAIT, seconds))
    return None


async def _resolve_version(svc: ServicesDep, account: Row, ref: Any) -> tuple[Row, Row]:
    invalid = ApiError(
        422,
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
        "Invalid version or not permitted",
    )
    if ref is None:
        raise ApiError(422, "- version is required\n", "Input validation failed")
    if not isinstance(ref, str):
        raise ApiError(422, "- version: must be a string\n", "Input validation failed")
    match = VERSION_REF.match(ref.strip())
    if not match:
        raise invalid
    owner, name, version_id = match.group("owner"), match.group("name"), match.group("id")
    if owner and name:
        model = await svc.store.get_model(owner, name, account["id"])
        if model is None:
            raise invalid
        version_id = version_id or model["latest_version_id"]
        version = await svc.store.get_version(model["id"], version_id) if version_id else None
        if version is None:
            raise invalid
        return model, version
    if not version_id:
        raise invalid
    found = await svc.store.find_version(version_id, account["id"])
    if found is None:
        raise invalid
    return found


def _validate(
    version: Row, payload: Any, component: str = "Input"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checked input as shown to users, and the secret values kept apart from it (`component`:
    "Input" for a prediction, "TrainingInput" for a training)."""
    if payload is None:
        payload = {}
    schema = version["openapi_schema"]
    nullable = version.get("required_nullable") if component == "Input" else None
    cleaned, errors = validate_input(schema, payload, component, nullable)
    errors += _bad_file_urls(schema, cleaned, component)
    if errors:
        fields = [e.to_dict() for e in errors]
        raise ApiError(
            422, format_invalid_fields(errors), "Input validation failed", invalid_fields=fields
        )
    props = schema["components"]["schemas"][component].get("properties", {})
    hidden = {k: v for k, v in cleaned.items() if props.get(k, {}).get("format") == "password"}
    shown = {k: (SECRET_MASK if k in hidden and v is not None else v) for k, v in cleaned.items()}
    return shown, hidden


def _bad_file_urls(
    schema: dict[str, Any], cleaned: dict[str, Any], component: str
) -> list[InvalidField]:
    """File inputs must be URLs Pier can fetch: data:, http: or https:."""
    problems = []
    for name, many in file_fields(schema, component).items():
        values = cleaned.get(name)
        for value in (values or []) if many else [values]:
            if isinstance(value, str) and not value.startswith(("data:", "http://", "https://")):
                problems.append(
                    InvalidField(
                        "format", f"input.{name}", "Must be a data:, http:// or https:// URL"
                    )
                )
    return problems


async def _data_uri_inputs(
    svc: ServicesDep, version: Row, row: PredictionRecord, component: str = "Input"
) -> list[Row]:
    """Check every data: URI file input (422 when malformed), and store the large ones as
    files of the prediction, so its record holds a link rather than megabytes of base64.

    Returns the files stored. A data: URI up to DATA_URI_INLINE_CHARS long stays inline.
    """
    inputs, stored, problems = row["input"], [], []
    for name, many in file_fields(version["openapi_schema"], component).items():
        value = inputs.get(name)
        values = value if many and isinstance(value, list) else [value]
        for index, item in enumerate(values):
            if not (isinstance(item, str) and item.startswith("data:")):
                continue
            try:
                if len(item) <= DATA_URI_INLINE_CHARS:
                    decode_data_uri(item)
                    continue
                file_row = await svc.files.save_data_uri(row["account_id"], item, row["id"])
            except FileError as exc:
                problems.append(InvalidField("format", f"input.{name}", str(exc)))
                continue
            stored.append(file_row)
            values[index] = public_url(svc.base_url, file_row)
        if many and isinstance(value, list):
            inputs[name] = values
        elif values[0] is not value:
            inputs[name] = values[0]
    if problems:
        for file_row in stored:
            await svc.files.delete(file_row)
        raise ApiError(
            422,
            format_invalid_fields(problems),
            "Input validation failed",
            invalid_fields=[p.to_dict() for p in problems],
        )
    return stored


async def _create(
    request: Request,
    svc: ServicesDep,
    account: Row,
    model: Row | None,
    prediction_id: str | None = None,
    deployed: Deployed | None = None,
) -> Response:
    body = await json_body(request)
    version: Row | None
    if deployed is not None:
        model, version = deployed.model, deployed.version
    elif model is None:
        model, version = await _resolve_version(svc, account, body.get("version"))
    else:
        version_id = model["latest_version_id"]
        version = await svc.store.get_version(model["id"], version_id) if version_id else None
        if version is None:
            raise ApiError(
                422,
                f"Model {model['owner']}/{model['name']} has no versions yet.",
                "Invalid version or not permitted",
            )
    shown, hidden = _validate(version, body.get("input"))
    webhook, events = _webhook(svc, body)
    source = "web" if request.headers.get("x-pier-source") == "web" else "api"
    tweaked_from = await _tweaked_from(svc, account, body.get("tweaked_from"))
    context = parse_context(body.get("context"))
    row = new_prediction(
        account["id"],
        model,
        version,
        shown,
        secret_input=hidden,
        source=source,
        webhook=webhook,
        webhook_events_filter=events,
        tweaked_from=tweaked_from,
        context=context,
        lane=fairness.lane(account),
        prediction_id=prediction_id,
        deployment=deployed.name if deployed is not None else None,
    )
    live = await _submit(svc, account, row, version, version["id"])
    wait = parse_prefer(request.headers.get("prefer"))
    headers = {}
    if wait is not None:
        headers["Preference-Applied"] = f"wait={wait}"
    if live is None:  # queued for whichever process claims it: follow it in the store
        if wait is None:
            return json_response(await _render(svc, row), 201, headers)
        row = await svc.dispatcher.wait_stored(row["id"], max(0.5, wait - 0.25)) or row
        if Status(row["status"]).terminal:
            return json_response(await _render(svc, row), 201, headers)
        queue = await svc.dispatcher.elsewhere.queue_info(row)
        return json_response(serialize.waiting_prediction(row, svc.base_url, queue), 201, headers)
    if wait is not None:
        finished = await svc.dispatcher.wait(live, max(0.5, wait - 0.25))
        if not finished:
            body_out = serialize.waiting_prediction(
                live.row, svc.base_url, await svc.dispatcher.queue_info(live)
            )
            return json_response(body_out, 201, headers)
    return json_response(await _render(svc, live.row, live), 201, headers)


async def _submit(
    svc: ServicesDep,
    account: Row,
    row: PredictionRecord,
    version: Row,
    pool: str,
    component: str = "Input",
) -> Live | None:
    """Hold a new job's credit (estimated from the recent run time of `pool`), store its large
    data: inputs, and hand it to the dispatcher. When the job is not accepted, what was stored
    for it goes again (402 when the account cannot pay)."""
    hold = await svc.dispatcher.billing.hold_for(
        row, account.get("token_id"), lambda: svc.dispatcher.elsewhere.typical_run_time(pool)
    )
    stored = await _data_uri_inputs(svc, version, row, component)
    try:
        return await svc.dispatcher.submit(row, version, hold)
    except BaseException as exc:
        for file_row in stored:
            await svc.files.delete(file_row)
        if isinstance(exc, InsufficientCredit):
            raise insufficient_credit(exc) from exc
        raise


async def _tweaked_from(svc: ServicesDep, account: Row, value: Any) -> str | None:
    """The prediction a new one was tweaked from (a Pier extension): one of the account's."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or await svc.store.get_prediction(value, account["id"]) is None:
        description = "must be the id of one of your predictions"
        raise ApiError(
            422,
            f"- tweaked_from: {description}\n",
            "Input validation failed",
            invalid_fields=[
                {"type": "invalid", "field": "tweaked_from", "description": description}
            ],
        )
    return value


def _webhook(svc: ServicesDep, body: dict[str, Any]) -> tuple[str | None, list[str] | None]:
    """The webhook URL and events filter of a create request, checked (422 when refused)."""
    url, events = body.get("webhook"), body.get("webhook_events_filter")
    try:
        checked = None if url in (None, "") else check_url(url, svc.settings.allow_private_webhooks)
    except TargetRefused as exc:
        raise _refused("webhook", exc) from exc
    try:
        return checked, check_events(events)
    except TargetRefused as exc:
        raise _refused("webhook_events_filter", exc) from exc


def _refused(field: str, exc: TargetRefused) -> ApiError:
    invalid = [{"type": "invalid", "field": field, "description": str(exc)}]
    return ApiError(422, f"- {field}: {exc}\n", invalid_fields=invalid)


async def _render(
    svc: ServicesDep, row: PredictionRecord, live: Live | None = None
) -> dict[str, Any]:
    if live is not None:
        queue = await svc.dispatcher.queue_info(live)
    else:
        queue = await svc.dispatcher.elsewhere.queue_info(row)
    return serialize.prediction(row, svc.base_url, queue)


# The three routes on every prediction's path take the request alone and look up services and
# the account directly: FastAPI's dependency solving costs more than the rest of the handler.


@router.post("/v1/predictions", status_code=201, openapi_extra=openapi.VERSION_PREDICTION)
async def create_prediction(request: Request) -> Response:
    svc = await services(request)
    account = await current_account(request, svc)
    return await _admitted(request, svc, account, None)


@router.post(
    "/v1/models/{owner}/{name}/predictions",
    status_code=201,
    openapi_extra=openapi.MODEL_PREDICTION,
)
async def create_model_prediction(owner: str, name: str, request: Request) -> Response:
    svc = await services(request)
    account = await current_account(request, svc)
    model = await svc.store.get_model(owner, name, account["id"])
    if model is None:
        raise not_found(f"Model {owner}/{name}")
    return await _admitted(request, svc, account, model)


async def _admitted(
    request: Request,
    svc: ServicesDep,
    account: Row,
    model: Row | None,
    deployed: Deployed | None = None,
) -> Response:
    """A create, once the account's create rate and its cap on waiting predictions allow it
    (429 otherwise). With an Idempotency-Key, a retry of a create gets the first one's
    prediction, as GET shows it, and nothing new is made or charged. `deployed`: the model
    and version a deployment runs, when the create comes through one."""
    gate = svc.gate
    await gate.check_rate(account)
    key = fairness.idempotency_key(request.headers)
    if key is None:
        await gate.check_waiting(account)
        response = await _create(request, svc, account, model, None, deployed)
        gate.created(account)
        return response
    request_sha256 = fairness.fingerprint(request.url.path, await json_body(request))
    reserved = await gate.reserve(account, key, request_sha256)
    if not isinstance(reserved, fairness.Reservation):
        row, live = await _find(svc, account, reserved["id"])
        body = await _render(svc, row, live)
        return json_response(body, 201, {"Idempotent-Replayed": "true"})
    try:
        await gate.check_waiting(account)
        response = await _create(request, svc, account, model, reserved.prediction_id, deployed)
    except BaseException:
        await gate.release(reserved)
        raise
    gate.created(account)
    return response


async def _find(
    svc: ServicesDep, account: Row, prediction_id: str, kind: Kind = Kind.PREDICTION
) -> tuple[PredictionRecord, Live | None]:
    """One of the account's jobs of one kind (predictions and trainings never see each
    other's ids), with its live copy when this process runs it."""
    live = svc.dispatcher.live.get(prediction_id)
    if live is not None and live.row["account_id"] == account["id"] and live.row["kind"] == kind:
        return live.row, live
    row = await svc.store.get_prediction(prediction_id, account["id"])
    if row is None or row["kind"] != kind:
        raise not_found(f"{kind.capitalize()} {prediction_id}")
    return row, None


@router.get("/v1/predictions/{prediction_id}", openapi_extra=openapi.AUTHENTICATED)
async def get_prediction(prediction_id: str, request: Request) -> Response:
    svc = await services(request)
    account = await current_account(request, svc)
    row, live = await _find(svc, account, prediction_id)
    return json_response(await _render(svc, row, live))


@router.post("/v1/predictions/{prediction_id}/cancel")
async def cancel_prediction(prediction_id: str, svc: ServicesDep, account: AccountDep) -> Response:
    row, live = await _find(svc, account, prediction_id)
    if live is not None:
        await svc.dispatcher.cancel(live)
        return json_response(await _render(svc, live.row, svc.dispatcher.live.get(live.id)))
    row = await svc.dispatcher.cancel_stored(row)
    return json_response(await _render(svc, row))


@router.delete("/v1/predictions/{prediction_id}", status_code=204)
async def delete_prediction(prediction_id: str, svc: ServicesDep, account: AccountDep) -> Response:
    """Delete an ended prediction with its files (a playground run is kept until then)."""
    row, _live = await _find(svc, account, prediction_id)
    if not Status(row["status"]).terminal:
        raise ApiError(409, "This prediction has not ended; cancel it first, then delete it.")
    await svc.dispatcher.billing.settle(row["id"])  # charged before it goes, never after
    await retention.delete(svc.store, svc.files, row["id"], utcnow())
    return Response(status_code=204)


SOURCES = ("web", "api", "example")


def _sources(source: str | None) -> list[str] | None:
    """The sources a list keeps: by default a person's own (playground and API), not the
    examples made at first start; `?source=example`, `?source=web,api` or `?source=all`."""
    if not source:
        return ["web", "api"]
    names = _names(source)
    if names == ["all"]:
        return None
    return _known(names, source, SOURCES, "source", "web, api, example or all")


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _known(
    names: list[str], given: str, allowed: Collection[str], what: str, choices: str
) -> list[str]:
    """`names` if each is allowed, else a 400 naming the unknown ones and the choices."""
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise ApiError(
            400,
            f"Unknown {what} {', '.join(unknown) or given!r}: use {choices} "
            "(several separated by commas).",
            f"Invalid {what}",
        )
    return names


def _statuses(status: str | None) -> list[str] | None:
    """The statuses a list keeps: all by default; `?status=failed` or `?status=failed,canceled`."""
    if not status:
        return None
    known = [s.value for s in Status]
    return _known(_names(status), status, known, "status", ", ".join(known))


@router.get("/v1/predictions")
async def list_predictions(
    request: Request,
    svc: ServicesDep,
    account: AccountDep,
    cursor: str | None = None,
    model: str | None = None,
    source: str | None = None,
    status: str | None = None,
) -> Response:
    before = None
    if cursor:
        before = decode_time_cursor(cursor)
    sources, statuses = _sources(source), _statuses(status)
    rows = await svc.store.list_predictions(
        account["id"], before, PAGE_SIZE + 1, model, sources, statuses
    )
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        token = encode_cursor([last["created_at"].isoformat(), last["id"]])
        query = {"cursor": token, "model": model, "source": source, "status": status}
        next_url = f"{svc.base_url}/v1/predictions?" + urlencode(
            {k: v for k, v in query.items() if v}
        )
    results = []
    for row in rows:
        live = svc.dispatcher.live.get(row["id"])
        results.append(await _render(svc, live.row if live else row, live))
    return json_response(serialize.page(results, next_url))
