"""Objects shared by the routers, and authentication."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pier.api.errors import ApiError
from pier.api.fairness import CreateGate
from pier.api.jsonbody import BadJson, loads
from pier.api.openapi import BEARER, BEARER_HELP
from pier.dispatch import Dispatcher
from pier.files import FileStore
from pier.settings import Settings
from pier.store import Row, Store, hash_secret
from pier.store.cache import LRU
from pier.store.store import CACHE_ENTRIES
from pier.util import utcnow

# A token's account is remembered this long by each process: a token revoked through another
# process stops working here within this time (at once in the process that revoked it).
TOKEN_CACHE_SECONDS = 30.0
LAST_USED_EVERY = 60.0  # a token's last use is written at most this often (seconds)


@dataclass
class CachedToken:
    until: float  # monotonic time this entry may be used until
    account: Row  # the account row, with the token's token_* fields
    touched: float  # monotonic time its last use was last written


@dataclass
class Services:
    settings: Settings
    store: Store
    files: FileStore
    dispatcher: Dispatcher
    http: httpx.AsyncClient
    token_cache: LRU[str, CachedToken] = field(default_factory=lambda: LRU(CACHE_ENTRIES))
    gate: CreateGate = field(init=False)  # rate, cap and Idempotency-Key of creates

    def __post_init__(self) -> None:
        self.gate = CreateGate(self.settings, self.store, self.dispatcher)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def forget_token(self, token_sha256: str) -> None:
        """Drop a revoked token from this process's cache, so it stops working at once."""
        self.token_cache.pop(token_sha256)


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs plain-def dependencies on a thread pool
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


# Puts the token scheme in the OpenAPI document of every route that needs the account. The header
# itself is read by bearer_token, which takes the `Token` scheme too.
_bearer_scheme = HTTPBearer(auto_error=False, scheme_name=BEARER, description=BEARER_HELP)


# Where a token comes from, said in every 401.
GET_A_TOKEN = (
    "Make a token on the Account page of the web playground (in the account menu), or run "
    "`pier token create` on the server; the admin's token is printed at first start and saved "
    "in ~/.pier/admin-token."
)


async def current_account(
    request: Request,
    svc: ServicesDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
) -> Row:
    token = bearer_token(request)
    if token is None:
        raise ApiError(
            401,
            "You did not pass an authentication token. Send 'Authorization: Bearer <token>'. "
            + GET_A_TOKEN,
        )
    key = hash_secret(token)
    cached = svc.token_cache.get(key)
    now = time.monotonic()
    if cached is None or cached.until <= now:
        account = await svc.store.account_for_token(token)
        if account is None:
            raise ApiError(
                401,
                "The authentication token you passed is not valid (revoked, expired, or never "
                "made here). " + GET_A_TOKEN,
            )
        last_used = account["token_last_used_at"]
        since = (utcnow() - last_used).total_seconds() if last_used else LAST_USED_EVERY
        cached = CachedToken(now + TOKEN_CACHE_SECONDS, account, now - since)
        svc.token_cache.put(key, cached)
    account = cached.account
    expires_at = account["token_expires_at"]
    if expires_at is not None and expires_at <= utcnow():
        svc.forget_token(key)
        raise ApiError(401, "Your session has ended; sign in again. " + GET_A_TOKEN)
    if now - cached.touched >= LAST_USED_EVERY:
        cached.touched = now
        _touch(svc.store, account["token_id"])
    return account


def _touch(store: Store, token_id: str) -> None:
    """Write a token's last use in the background: a failed write only loses that mark."""
    written = store.touch_token(token_id, utcnow())
    written.add_done_callback(lambda done: done.cancelled() or done.exception())


AccountDep = Annotated[Row, Depends(current_account)]


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """A cursor is a pair of strings (a sort key and an id), as encode_cursor made it."""
    invalid = ApiError(400, "The cursor is not valid; use the `next` URL as given.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError as exc:  # binascii.Error and BadJson among them
        raise invalid from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise invalid
    return value[0], value[1]


def decode_time_cursor(cursor: str) -> tuple[datetime, str]:
    stamp, last_id = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(stamp), last_id
    except ValueError as exc:
        raise ApiError(400, "The cursor is not valid; use the `next` URL as given.") from exc


async def json_body(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiError(400, "The request body is empty; send a JSON object.")
    try:
        body = loads(raw)
    except BadJson as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body
