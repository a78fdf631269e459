"""The signed-in account, login links for the playground, hardware, webhook secret."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import openapi, serialize
from pier.api.deps import AccountDep, ServicesDep, json_body
from pier.api.errors import ApiError
from pier.api.jsonresponse import json_response

router = APIRouter()


@router.get("/v1/account")
async def get_account(account: AccountDep) -> Response:
    return json_response(serialize.account(account))


@router.get("/v1/hardware")
async def hardware() -> Response:
    return json_response([{"sku": "cpu", "name": "CPU"}])


@router.get("/v1/webhooks/default/secret")
async def webhook_secret(account: AccountDep) -> Response:
    return json_response({"key": account["webhook_secret"]})


@router.post("/auth/login", openapi_extra=openapi.LOGIN)
async def login(request: Request, svc: ServicesDep) -> Response:
    """Trade a one-time login code (printed by `pier serve`) for an API token."""
    body = await json_body(request)
    code = body.get("code")
    if not isinstance(code, str) or not code:
        raise ApiError(400, 'Send {"code": "…"} with the code from the login link.')
    account_id = await svc.store.redeem_login_code(code)
    if account_id is None:
        raise ApiError(
            401,
            "This login link is unknown, expired or already used. "
            "Restart `pier serve` for a new one, or paste an API token.",
        )
    account = await svc.store.get_account(account_id)
    assert account is not None
    token = await svc.store.create_token(account_id, "playground sign-in")
    return json_response({"token": token, "username": account["username"]})
