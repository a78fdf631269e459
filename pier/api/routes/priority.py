"""Queue priorities, set by an admin: an account's (`PUT /v1/admin/accounts/{username}/priority`)
and a token's own (`PUT /v1/admin/tokens/{token_id}/priority`, null for its account's).

A new priority applies to predictions created after it; this process uses it at once, others
within the time they keep a token's account in memory.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api.deps import ServicesDep, json_body
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.api.routes.admin import AdminDep
from pier.queue import PRIORITIES, lane_for

router = APIRouter()

CHOICES = ", ".join(PRIORITIES)


def _priority(body: dict[str, Any], *, inherit: bool) -> str | None:
    """The body's `priority`: a known name, or (for a token) null for its account's."""
    value = body.get("priority")
    if value is None and inherit and "priority" in body:
        return None
    if value not in PRIORITIES:
        also = ", or null for the account's" if inherit else ""
        raise ApiError(
            422,
            f"- priority: must be one of {CHOICES}{also}\n",
            "Input validation failed",
            invalid_fields=[
                {"type": "enum", "field": "priority", "description": f"one of {CHOICES}{also}"}
            ],
        )
    return str(value)


@router.put("/v1/admin/accounts/{username}/priority")
async def set_account_priority(
    username: str, request: Request, _admin: AdminDep, svc: ServicesDep
) -> Response:
    """Give an account's predictions a queue priority: high, normal or low."""
    priority = _priority(await json_body(request), inherit=False)
    assert priority is not None
    account = await svc.store.set_account_priority(username, priority)
    if account is None:
        raise not_found(f"Account {username}")
    svc.token_cache.clear()
    return json_response({"username": username, "priority": priority, "lane": lane_for(priority)})


@router.put("/v1/admin/tokens/{token_id}/priority")
async def set_token_priority(
    token_id: str, request: Request, _admin: AdminDep, svc: ServicesDep
) -> Response:
    """Give one token's predictions their own queue priority; null: the account's again."""
    priority = _priority(await json_body(request), inherit=True)
    token = await svc.store.set_token_priority(token_id, priority)
    if token is None:
        raise not_found(f"Token {token_id}")
    svc.token_cache.clear()
    account = await svc.store.get_account(token["account_id"])
    assert account is not None
    effective = priority or account["priority"]
    return json_response(
        {
            "id": token["id"],
            "name": token["name"],
            "username": account["username"],
            "priority": priority,
            "lane": lane_for(effective),
        }
    )
