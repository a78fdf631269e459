"""The signed-in account, login links and sign-out for the playground, webhook secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import openapi, serialize
from pier.api.deps import AccountDep, ServicesDep, json_body
from pier.api.errors import ApiError
from pier.api.jsonresponse import json_response
from pier.api.routes import signin, tokens
from pier.api.routes.admin import is_admin
from pier.auth.sessions import start_session
from pier.store import Row
from pier.store.accounts import SESSION

router = APIRouter()


@router.get("/v1/account")
async def get_account(account: AccountDep, svc: ServicesDep) -> Response:
    """The account (Replicate's fields), with its e-mail address, whether it is an admin, and
    how long its API predictions keep their data."""
    return json_response(_account(account, svc))


def _account(account: Row, svc: ServicesDep) -> dict[str, Any]:
    own = account.get("data_retention_seconds")
    return {
        **serialize.account(account),
        "email": account["email"],
        "admin": is_admin(account),
        "data_retention_seconds": own if own is not None else svc.settings.api_data_retention,
        "data_retention_default": own is None,
    }


MAX_RETENTION = 10 * 365 * 86400.0


RETENTION_BODY = openapi.json_body(
    {
        "type": "object",
        "required": ["data_retention_seconds"],
        "properties": {"data_retention_seconds": {"type": ["number", "null"], "minimum": 0}},
    }
)


@router.patch("/v1/account", openapi_extra=RETENTION_BODY)
async def patch_account(request: Request, account: AccountDep, svc: ServicesDep) -> Response:
    """Choose how long this account's API predictions keep their input, output, logs and files
    (`data_retention_seconds`; null: the server's default)."""
    body = await json_body(request)
    if set(body) != {"data_retention_seconds"}:
        raise ApiError(422, 'Send {"data_retention_seconds": N} (seconds; null for the default).')
    seconds = body["data_retention_seconds"]
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0 <= seconds <= MAX_RETENTION
    ):
        raise ApiError(
            422,
            "- data_retention_seconds: must be a number of seconds from 0 to ten years, or null\n",
        )
    await svc.store.set_data_retention(account["id"], seconds)
    svc.token_cache.clear()  # the account row is cached with its tokens
    fresh = {**account, "data_retention_seconds": seconds}
    return json_response(_account(fresh, svc))


@router.get("/v1/webhooks/default/secret")
async def webhook_secret(account: AccountDep) -> Response:
    return json_response({"key": account["webhook_secret"]})


@router.post("/auth/login", openapi_extra=openapi.LOGIN)
async def login(request: Request, svc: ServicesDep) -> Response:
    """Trade a one-time login code (printed by `pier serve`, or handed to the playground after
    signing in with GitHub or OpenID Connect) for a session: a token that ends after
    `session_seconds` or when revoked."""
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
    agent = request.headers.get("user-agent", "")
    token = await start_session(svc.store, svc.settings, account_id, agent)
    body = {"token": token, "username": account["username"], "admin": is_admin(account)}
    return json_response(body)


@router.post("/auth/logout", include_in_schema=False)
async def logout(account: AccountDep, svc: ServicesDep) -> Response:
    """Sign out: the session this request carries ends now. An API token pasted into the
    playground is left working (it was made to last)."""
    if account["token_kind"] == SESSION:
        row = await svc.store.get_token(account["id"], account["token_id"])
        if row is not None and await svc.store.revoke_token(account["id"], row["id"]):
            svc.forget_token(row["token_sha256"])
    return Response(status_code=204)


# Signing in with a provider, and the account's tokens, are parts of the account's routes.
router.include_router(signin.router)
router.include_router(tokens.router)
