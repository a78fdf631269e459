"""The signed-in account's API tokens and playground sessions: list, create, rename, revoke.

A token's secret is shown once, when it is made; afterwards only its id, name, kind and times.
Another account's token ids answer 404, like ids that do not exist.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import openapi
from pier.api.deps import AccountDep, ServicesDep, json_body
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.store import Row
from pier.store.accounts import new_token
from pier.util import isoformat

router = APIRouter()
MAX_NAME = 200
TOKEN_ID = re.compile(r"^[a-z2-7]{26}$")  # as pier.util.new_id makes them

_NAME_BODY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": MAX_NAME, "description": "A label for the token."}
    },
}
CREATE = openapi.json_body(_NAME_BODY)
RENAME = openapi.json_body({**_NAME_BODY, "required": ["name"]})


def token_json(row: Row, account: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],  # "api" or "session"
        "created_at": isoformat(row["created_at"]),
        "last_used_at": isoformat(row["last_used_at"]),
        "expires_at": isoformat(row["expires_at"]),
        "current": row["id"] == account.get("token_id"),  # the token of this very request
    }


def token_name(body: dict[str, Any], default: str | None = None) -> str:
    name = body.get("name", default)
    if not isinstance(name, str):
        raise ApiError(400, 'Send {"name": "…"}: a label for the token, as a string.')
    name = " ".join(name.split())
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        raise ApiError(400, "A token's name cannot hold control characters.")
    if not name or len(name) > MAX_NAME:
        raise ApiError(400, f"A token's name must have 1 to {MAX_NAME} characters.")
    return name


@router.get("/v1/account/tokens")
async def list_tokens(account: AccountDep, svc: ServicesDep) -> Response:
    """The account's API tokens and playground sessions that still work, newest first."""
    rows = await svc.store.list_tokens(account["id"])
    return json_response({"results": [token_json(r, account) for r in rows], "next": None})


@router.post("/v1/account/tokens", openapi_extra=CREATE)
async def create_token(request: Request, account: AccountDep, svc: ServicesDep) -> Response:
    """Make an API token; the answer carries its secret (`token`), shown only this once."""
    name = token_name(await json_body(request, allow_empty=True), "API token")
    token = new_token()
    row = await svc.store.add_token(account["id"], token, name)
    return json_response({**token_json(row, account), "token": token}, status=201)


@router.patch("/v1/account/tokens/{token_id}", openapi_extra=RENAME)
async def rename_token(
    token_id: str, request: Request, account: AccountDep, svc: ServicesDep
) -> Response:
    name = token_name(await json_body(request))
    if not TOKEN_ID.match(token_id) or not await svc.store.rename_token(
        account["id"], token_id, name
    ):
        raise not_found("Token")
    row = await svc.store.get_token(account["id"], token_id)
    if row is None:  # revoked meanwhile
        raise not_found("Token")
    return json_response(token_json(row, account))


@router.delete("/v1/account/tokens/{token_id}")
async def revoke_token(token_id: str, account: AccountDep, svc: ServicesDep) -> Response:
    """Revoke a token or end a session: it stops working at once."""
    row = await svc.store.get_token(account["id"], token_id) if TOKEN_ID.match(token_id) else None
    if row is None or not await svc.store.revoke_token(account["id"], token_id):
        raise not_found("Token")
    svc.forget_token(row["token_sha256"])
    return Response(status_code=204)
