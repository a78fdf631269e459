"""Creating, changing and deleting models: POST /v1/models, PATCH and DELETE
/v1/models/{owner}/{name}, with Replicate's fields.

A model is made empty; its versions come from `pier push` (or a training). Models are made
under the caller's own username (an admin may also start a namespace no account holds, like
pier/…). Another account's private model is a 404 like any model that does not exist; a public
one it can see is a 403.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import openapi
from pier.api.deps import AccountDep, Services, ServicesDep, json_body
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.api.routes.admin import is_admin
from pier.api.routes.catalog import hardware_skus
from pier.api.routes.models import render_model
from pier.registry import VISIBILITIES
from pier.store import Row
from pier.util import new_id

router = APIRouter()

OWNER_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
LINKS = ("github_url", "paper_url", "license_url", "cover_image_url")
CHANGEABLE = ("description", "visibility", "hardware", *LINKS)
MAX_DESCRIPTION = 5000
MAX_URL = 2048

_FIELDS: dict[str, Any] = {
    "visibility": {"type": "string", "enum": list(VISIBILITIES), "default": "private"},
    "hardware": {"type": "string", "description": "A `sku` of GET /v1/hardware."},
    "description": {"type": "string", "nullable": True, "maxLength": MAX_DESCRIPTION},
    **{
        link: {"type": "string", "format": "uri", "nullable": True, "maxLength": MAX_URL}
        for link in LINKS
    },
}
CREATE = openapi.json_body(
    {
        "type": "object",
        "required": ["owner", "name"],
        "additionalProperties": False,
        "properties": {
            "owner": {"type": "string", "description": "Your username."},
            "name": {
                "type": "string",
                "pattern": NAME_RE.pattern,
                "description": "Lowercase letters, digits, dashes, underscores and dots.",
            },
            **_FIELDS,
        },
    }
)
UPDATE = openapi.json_body({"type": "object", "additionalProperties": False, "properties": _FIELDS})


class Problems:
    """The body's fields that are wrong, reported together as one 422."""

    def __init__(self) -> None:
        self.fields: list[dict[str, str]] = []

    def add(self, field: str, kind: str, description: str) -> None:
        self.fields.append({"type": kind, "field": field, "description": description})

    def raise_any(self) -> None:
        if self.fields:
            detail = "".join(f"- {f['field']}: {f['description']}\n" for f in self.fields)
            raise ApiError(422, detail, invalid_fields=self.fields)


async def _changes(svc: Services, body: dict[str, Any], problems: Problems) -> Row:
    """The model columns `body` sets; each field that is wrong goes into `problems`."""
    changes: Row = {}
    for field in body:
        if field not in CHANGEABLE:
            if field in ("owner", "name"):
                problems.add(field, "read_only", "A model's owner and name cannot be changed.")
            else:
                problems.add(field, "additional_property_not_allowed", "Unknown field.")
    if "visibility" in body:
        if body["visibility"] in VISIBILITIES:
            changes["visibility"] = body["visibility"]
        else:
            problems.add("visibility", "enum", "Must be public or private.")
    if "hardware" in body:
        skus = await hardware_skus(svc)
        if body["hardware"] in skus:
            changes["hardware"] = body["hardware"]
        else:
            problems.add("hardware", "enum", "Must be one of " + ", ".join(skus) + ".")
    if "description" in body:
        text = body["description"]
        if text is not None and not isinstance(text, str):
            problems.add("description", "type", "Must be a string.")
        elif text is not None and len(text) > MAX_DESCRIPTION:
            problems.add("description", "max_length", f"At most {MAX_DESCRIPTION} characters.")
        else:
            changes["description"] = (text.strip() or None) if text else None
    for link in LINKS:
        if link in body:
            url = body[link]
            error = _url_problem(url, https_only=link == "cover_image_url")
            if error:
                problems.add(link, "format", error)
            else:
                changes[link] = url or None
    return changes


def _url_problem(url: object, *, https_only: bool) -> str | None:
    if url is None or url == "":
        return None
    schemes = ("https://",) if https_only else ("https://", "http://")
    if not isinstance(url, str) or not url.startswith(schemes) or len(url) > MAX_URL:
        kinds = " or ".join(scheme[:-3] for scheme in schemes)
        return f"Must be an {kinds} URL of at most {MAX_URL} characters."
    if any(c.isspace() for c in url):
        return "A URL has no spaces."
    return None


async def _check_namespace(svc: Services, account: Row, owner: str, name: str) -> None:
    """403 unless `account` may make models under `owner`."""
    if owner == account["username"]:
        return
    if is_admin(account) and await svc.store.get_account_by_username(owner) is None:
        return  # the admin may start a namespace of its own (like pier/…)
    raise ApiError(
        403,
        f"You can create models only under your own username, like {account['username']}/{name}.",
    )


@router.post("/v1/models", status_code=201, openapi_extra=CREATE)
async def create_model(request: Request, svc: ServicesDep, account: AccountDep) -> Response:
    """Make an empty model (201); push versions to it with `pier push DIR owner/name`."""
    body = await json_body(request)
    problems = Problems()
    owner, name = body.get("owner"), body.get("name")
    if not isinstance(owner, str) or not OWNER_RE.match(owner):
        problems.add("owner", "required" if owner is None else "format", "Your username.")
    if not isinstance(name, str) or not NAME_RE.match(name):
        problems.add(
            "name",
            "required" if name is None else "format",
            "Lowercase letters, digits, dashes, underscores and dots, starting with a letter "
            "or digit, at most 128 characters.",
        )
    rest = {k: v for k, v in body.items() if k not in ("owner", "name")}
    changes = await _changes(svc, rest, problems)
    problems.raise_any()
    assert isinstance(owner, str) and isinstance(name, str)
    await _check_namespace(svc, account, owner, name)
    conflict = ApiError(409, f"A model named {owner}/{name} already exists.")
    if await svc.store.get_model(owner, name) is not None:
        raise conflict
    model_id = new_id()
    made = await svc.store.create_model(account["id"], owner, name, id=model_id, **changes)
    model = await svc.store.get_model_by_id(model_id)
    if made["id"] != model_id or model is None:  # made at the same moment by another request
        raise conflict
    return json_response(await render_model(svc, model), 201)


async def _own_model(svc: Services, account: Row, owner: str, name: str) -> Row:
    model = await svc.store.get_model(owner, name, account["id"])
    if model is None:
        raise not_found(f"Model {owner}/{name}")
    if model["account_id"] != account["id"]:
        raise ApiError(
            403, f"Model {owner}/{name} belongs to another account; you can change only yours."
        )
    return model


@router.patch("/v1/models/{owner}/{name}", openapi_extra=UPDATE)
async def update_model(
    owner: str, name: str, request: Request, svc: ServicesDep, account: AccountDep
) -> Response:
    """Change a model's description, visibility, hardware or links; fields left out stay."""
    model = await _own_model(svc, account, owner, name)
    problems = Problems()
    changes = await _changes(svc, await json_body(request), problems)
    problems.raise_any()
    if changes:
        await svc.store.update_model(model["id"], **changes)
        model.update(changes)
    return json_response(await render_model(svc, model))


@router.delete("/v1/models/{owner}/{name}")
async def delete_model(owner: str, name: str, svc: ServicesDep, account: AccountDep) -> Response:
    """Delete a model that has no versions (204); one with versions is refused (409): versions
    are immutable, and predictions and trainings refer to them."""
    model = await _own_model(svc, account, owner, name)
    if not await svc.store.delete_model(model["id"]):
        raise ApiError(
            409,
            "You can only delete models that have no versions associated with them. "
            f"{owner}/{name} has versions, and versions in Pier cannot be deleted.",
        )
    return Response(status_code=204)
