"""Deployments, as Replicate's: a name its owner runs predictions through, pointing at a model
version and how many model processes to keep loaded (min_instances) or run at once
(max_instances). Every change is a new numbered release; predictions run the current one's
version, made and charged like any other prediction of the caller's.

A deployment is its owner's alone: to any other account it does not exist (404). A deployment
is deleted only while no prediction made through it waits or runs (409 otherwise).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import cluster, openapi, serialize
from pier.api.deps import (
    AccountDep,
    Services,
    ServicesDep,
    current_account,
    decode_cursor,
    encode_cursor,
    json_body,
    services,
)
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.api.routes.catalog import hardware_skus
from pier.api.routes.predictions import Deployed, _admitted
from pier.dispatch import floors
from pier.store import Row
from pier.store.deployments import DeploymentExists
from pier.util import isoformat

router = APIRouter()

PAGE_SIZE = 100
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
VERSION_ID = re.compile(r"^[0-9a-f]{64}$")
MAX_INSTANCES = 100
CREATE_FIELDS = ("name", "model", "version", "hardware", "min_instances", "max_instances")
UPDATE_FIELDS = ("version", "hardware", "min_instances", "max_instances")

_CONFIGURATION = {
    "version": {"type": "string", "description": "A version id (64 hex digits) of the model."},
    "hardware": {"type": "string", "description": "A hardware class from GET /v1/hardware."},
    "min_instances": {
        "type": "integer",
        "minimum": 0,
        "description": "Model processes kept loaded on each worker that serves the model, "
        "even with nothing to run (default 0).",
    },
    "max_instances": {
        "type": "integer",
        "minimum": 1,
        "description": "The most model processes that run the version at once on a worker "
        "(default 1).",
    },
}
CREATE = openapi.json_body(
    {
        "type": "object",
        "required": ["name", "model", "version"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "description": "The deployment's name (`owner/` optional)."},
            "model": {"type": "string", "description": "The model, as `owner/name`."},
            **_CONFIGURATION,
        },
    }
)
UPDATE = openapi.json_body(
    {"type": "object", "additionalProperties": False, "properties": _CONFIGURATION}
)


def _invalid(field: str, description: str) -> ApiError:
    return ApiError(
        422,
        f"- {field}: {description}\n",
        "Input validation failed",
        invalid_fields=[{"type": "invalid", "field": field, "description": description}],
    )


def _refuse_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise _invalid(unknown[0], f"is not a field here (send only {', '.join(allowed)})")


def _count(body: dict[str, Any], field: str, default: int) -> int:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, "must be a whole number")
    if not 0 <= value <= MAX_INSTANCES:
        raise _invalid(field, f"must be between 0 and {MAX_INSTANCES}")
    return value


async def _hardware(svc: Services, value: Any) -> str:
    skus = await hardware_skus(svc)
    if not isinstance(value, str) or value not in skus:
        raise _invalid("hardware", f"must be one of {', '.join(skus)} (see GET /v1/hardware)")
    return value


def _instances(min_instances: int, max_instances: int) -> None:
    if max_instances < 1:
        raise _invalid("max_instances", "must be at least 1")
    if min_instances > max_instances:
        raise _invalid(
            "min_instances",
            f"must be at most max_instances ({min_instances} > {max_instances})",
        )


async def _version_of(svc: Services, model: Row, value: Any) -> Row:
    """The version `value` names among the model's (a 422 naming the model otherwise)."""
    if not isinstance(value, str) or not VERSION_ID.match(value):
        raise _invalid("version", "must be a version id (64 hex digits) of the model")
    version = await svc.store.get_version(model["id"], value)
    if version is None:
        raise _invalid("version", f"is not a version of {model['owner']}/{model['name']}")
    return version


async def _model_of(svc: Services, account: Row, value: Any) -> Row:
    if not isinstance(value, str) or value.count("/") != 1:
        raise _invalid("model", "must be a model as owner/name")
    owner, name = value.split("/")
    model = await svc.store.get_model(owner, name, account["id"])
    if model is None:
        raise _invalid("model", f"{value} does not exist or you may not use it")
    return model


def _name(account: Row, value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid("name", "is required: a name for the deployment")
    owner, _, name = value.rpartition("/")
    if owner and owner != account["username"]:
        raise _invalid("name", f"deployments are made in your own account ({account['username']})")
    if not NAME.match(name):
        raise _invalid(
            "name",
            "must be 1 to 128 lowercase letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit",
        )
    return name


def render(row: Row, instances: dict[str, int]) -> dict[str, Any]:
    """Replicate's deployment object, with Pier's `instances`: the model processes of the
    current version loaded on the machines now, and the predictions of it running."""
    created_by = None
    if row["creator_username"] is not None:
        created_by = serialize.account(
            {
                "type": row["creator_type"],
                "username": row["creator_username"],
                "name": row["creator_name"],
            }
        )
    return {
        "owner": row["owner"],
        "name": row["name"],
        "current_release": {
            "number": row["release_number"],
            "model": f"{row['model_owner']}/{row['model_name']}",
            "version": row["version_id"],
            "created_at": isoformat(row["release_created_at"]),
            "created_by": created_by,
            "configuration": {
                "hardware": row["hardware"],
                "min_instances": row["min_instances"],
                "max_instances": row["max_instances"],
            },
        },
        "instances": instances,
    }


async def _instances_now(svc: Services) -> dict[str, dict[str, int]]:
    """Per version: its model processes loaded and its predictions running, on the processes
    whose heartbeats are recent (the cluster view's figures)."""
    now = await cluster.read(svc.store, svc.dispatcher.keeper.interval)
    counts: dict[str, dict[str, int]] = {}
    for process in now.processes:
        if not process["alive"]:
            continue
        for item in process["loaded"]:
            entry = counts.setdefault(str(item["version"]), {"loaded": 0, "running": 0})
            entry["loaded"] += int(item.get("processes") or 0)
        for job in process["running"]:
            entry = counts.setdefault(str(job["version"]), {"loaded": 0, "running": 0})
            entry["running"] += 1
    return counts


async def _rendered(svc: Services, rows: list[Row]) -> list[dict[str, Any]]:
    counts = await _instances_now(svc)
    empty = {"loaded": 0, "running": 0}
    return [render(row, counts.get(row["version_id"], empty)) for row in rows]


async def _deployment(svc: Services, account: Row, owner: str, name: str) -> Row:
    row = await svc.store.get_deployment(owner, name, account["id"])
    if row is None:
        raise not_found(f"Deployment {owner}/{name}")
    return row


@router.post("/v1/deployments", openapi_extra=CREATE)
async def create_deployment(request: Request, svc: ServicesDep, account: AccountDep) -> Response:
    """Make a deployment (release 1) of one of the model's versions."""
    body = await json_body(request)
    _refuse_unknown(body, CREATE_FIELDS)
    name = _name(account, body.get("name"))
    model = await _model_of(svc, account, body.get("model"))
    version = await _version_of(svc, model, body.get("version"))
    release = {
        "model_id": model["id"],
        "version_id": version["id"],
        "hardware": await _hardware(svc, body.get("hardware", "cpu")),
        "min_instances": _count(body, "min_instances", 0),
        "max_instances": _count(body, "max_instances", 1),
    }
    _instances(release["min_instances"], release["max_instances"])
    try:
        row = await svc.store.create_deployment(
            account["id"], account["username"], name, release, account["id"]
        )
    except DeploymentExists as exc:
        raise ApiError(
            409, f"You already have a deployment named {name}; change it with PATCH."
        ) from exc
    assert row is not None
    await floors.apply(svc.dispatcher)
    return json_response((await _rendered(svc, [row]))[0])


@router.get("/v1/deployments")
async def list_deployments(
    svc: ServicesDep, account: AccountDep, cursor: str | None = None
) -> Response:
    after = decode_cursor(cursor) if cursor else None
    rows = await svc.store.list_deployments(account["id"], after, PAGE_SIZE + 1)
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = [rows[-1]["owner"], rows[-1]["name"]]
        next_url = f"{svc.base_url}/v1/deployments?cursor=" + encode_cursor(last)
    return json_response(serialize.page(await _rendered(svc, rows), next_url))


@router.get("/v1/deployments/{owner}/{name}")
async def get_deployment(owner: str, name: str, svc: ServicesDep, account: AccountDep) -> Response:
    row = await _deployment(svc, account, owner, name)
    return json_response((await _rendered(svc, [row]))[0])


@router.patch("/v1/deployments/{owner}/{name}", openapi_extra=UPDATE)
async def update_deployment(
    owner: str, name: str, request: Request, svc: ServicesDep, account: AccountDep
) -> Response:
    """Any of version, hardware, min_instances, max_instances: a new release, numbered next."""
    row = await _deployment(svc, account, owner, name)
    body = await json_body(request)
    _refuse_unknown(body, UPDATE_FIELDS)
    if not body:
        raise ApiError(
            422, f"Send at least one of {', '.join(UPDATE_FIELDS)}.", "Input validation failed"
        )
    changes: dict[str, Any] = {}
    if "version" in body:
        model = await svc.store.get_model_by_id(row["model_id"])
        if model is None:
            raise _invalid("version", "the deployment's model no longer exists")
        changes["version_id"] = (await _version_of(svc, model, body["version"]))["id"]
    if "hardware" in body:
        changes["hardware"] = await _hardware(svc, body["hardware"])
    for field in ("min_instances", "max_instances"):
        changes[field] = _count(body, field, row[field])
    _instances(changes["min_instances"], changes["max_instances"])
    await svc.store.new_release(row, changes, account["id"])
    await floors.apply(svc.dispatcher)
    return json_response((await _rendered(svc, [await _deployment(svc, account, owner, name)]))[0])


@router.delete("/v1/deployments/{owner}/{name}", status_code=204)
async def delete_deployment(
    owner: str, name: str, svc: ServicesDep, account: AccountDep
) -> Response:
    """Delete a deployment and its releases; refused (409) while predictions made through it
    wait or run. Its predictions stay, naming it."""
    row = await _deployment(svc, account, owner, name)
    busy = await svc.store.deployment_busy(account["id"], f"{owner}/{name}")
    if busy:
        raise ApiError(
            409,
            f"{busy} prediction(s) made through {owner}/{name} are waiting or running; "
            "delete it once they have ended (or cancel them).",
        )
    await svc.store.delete_deployment(row["id"])
    await floors.apply(svc.dispatcher)
    return Response(status_code=204)


@router.post(
    "/v1/deployments/{owner}/{name}/predictions",
    status_code=201,
    openapi_extra=openapi.MODEL_PREDICTION,
)
async def create_deployment_prediction(owner: str, name: str, request: Request) -> Response:
    """A prediction of the current release's version: the caller's, made and charged like any
    other (rate, waiting cap, Idempotency-Key, credit hold)."""
    svc = await services(request)
    account = await current_account(request, svc)
    row = await _deployment(svc, account, owner, name)
    model = None
    if row["model_owner"] is not None:  # the model as the caller may see it now
        model = await svc.store.get_model(row["model_owner"], row["model_name"], account["id"])
    version = await svc.store.get_version(row["model_id"], row["version_id"]) if model else None
    if model is None or version is None:
        raise ApiError(
            422,
            f"Release {row['release_number']} of {owner}/{name} names a version that no longer "
            "exists or that you may no longer use; give the deployment another version with "
            "PATCH.",
            "Invalid version or not permitted",
        )
    return await _admitted(
        request, svc, account, model, Deployed(f"{owner}/{name}", model, version)
    )
