"""Sessions (expiry, revocation, sign-out) and API tokens (list, create, rename, revoke, last
use) through the HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Pier, running_pier

ONE_MINUTE = timedelta(minutes=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something true, within a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)


async def session_from_code(client: httpx.AsyncClient, code: str) -> str:
    answer = await client.post("/auth/login", json={"code": code}, headers={"User-Agent": "x"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


async def test_a_login_link_gives_a_session_that_signing_out_ends(pier: Pier) -> None:
    client = pier.client
    session = await session_from_code(client, pier.info.login_code)
    listed = (await client.get("/v1/account/tokens", headers=bearer(session))).json()["results"]
    mine = [t for t in listed if t["current"]]
    assert [(t["kind"], t["name"]) for t in mine] == [("session", "a browser")]
    assert mine[0]["expires_at"] is not None
    assert "token" not in mine[0] and "token_sha256" not in mine[0]
    assert (await client.post("/auth/logout", headers=bearer(session))).status_code == 204
    gone = await client.get("/v1/account", headers=bearer(session))
    assert gone.status_code == 401
    # signing out with an API token leaves the token working
    assert (await client.post("/auth/logout")).status_code == 204
    assert (await client.get("/v1/account")).status_code == 200


async def test_a_session_ends_when_it_expires(tmp_path: Path) -> None:
    async with running_pier(tmp_path, session_seconds=1.0) as pier:
        client = pier.client
        session = await session_from_code(client, pier.info.login_code)
        assert (await client.get("/v1/account", headers=bearer(session))).status_code == 200

        async def refused() -> bool:
            answer = await client.get("/v1/account", headers=bearer(session))
            return answer.status_code == 401 and "session has ended" in answer.json()["detail"]

        await eventually(refused)
        listed = (await client.get("/v1/account/tokens")).json()["results"]
        assert all(t["kind"] == "api" for t in listed)  # the expired session is not listed


async def test_a_revoked_session_is_refused_at_once(pier: Pier) -> None:
    client = pier.client
    code = await pier.services.store.create_login_code(pier.info.account["id"], ONE_MINUTE)
    first = await session_from_code(client, pier.info.login_code)
    second = await session_from_code(client, code)
    assert (await client.get("/v1/account", headers=bearer(second))).status_code == 200  # cached
    listed = (await client.get("/v1/account/tokens", headers=bearer(first))).json()["results"]
    [other] = [t for t in listed if t["kind"] == "session" and not t["current"]]
    revoke = await client.delete(f"/v1/account/tokens/{other['id']}", headers=bearer(first))
    assert revoke.status_code == 204
    assert (await client.get("/v1/account", headers=bearer(second))).status_code == 401
    assert (await client.get("/v1/account", headers=bearer(first))).status_code == 200


async def test_api_tokens_create_list_rename_revoke_and_last_use(pier: Pier) -> None:
    client = pier.client
    made = await client.post("/v1/account/tokens", json={"name": "  ci   runner "})
    assert made.status_code == 201, made.text
    body = made.json()
    secret, token_id = body["token"], body["id"]
    assert (body["name"], body["kind"], body["expires_at"], body["last_used_at"]) == (
        "ci runner",
        "api",
        None,
        None,
    )
    assert (await client.post("/v1/account/tokens", content=b"")).json()["name"] == "API token"

    async def listed() -> dict[str, Any]:
        rows = (await client.get("/v1/account/tokens")).json()["results"]
        return {t["id"]: t for t in rows}

    assert "token" not in (await listed())[token_id]
    assert (await client.get("/v1/account", headers=bearer(secret))).status_code == 200

    async def used() -> str | None:
        return (await listed())[token_id]["last_used_at"]  # type: ignore[no-any-return]

    first_use = await eventually(used)
    # used again within the minute: the mark is not written again (writes are applied in order,
    # so the rename after it would come after such a write)
    assert (await client.get("/v1/account", headers=bearer(secret))).status_code == 200
    renamed = await client.patch(f"/v1/account/tokens/{token_id}", json={"name": "deploy"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "deploy"
    assert (await listed())[token_id]["last_used_at"] == first_use

    for bad in ({"name": ""}, {"name": 5}, {"name": "x" * 201}, {"name": "a\x00b"}, {}):
        answer = await client.patch(f"/v1/account/tokens/{token_id}", json=bad)
        assert answer.status_code == 400, bad
    assert (await client.patch(f"/v1/account/tokens/{token_id}", content=b"[")).status_code == 400
    for odd in ("%00", "x" * 300, "ABC"):
        assert (
            await client.patch(f"/v1/account/tokens/{odd}", json={"name": "a"})
        ).status_code == 404
        assert (await client.delete(f"/v1/account/tokens/{odd}")).status_code == 404

    assert (await client.delete(f"/v1/account/tokens/{token_id}")).status_code == 204
    assert (await client.get("/v1/account", headers=bearer(secret))).status_code == 401
    assert token_id not in await listed()
    assert (await client.delete(f"/v1/account/tokens/{token_id}")).status_code == 404
    assert (
        await client.patch(f"/v1/account/tokens/{token_id}", json={"name": "a"})
    ).status_code == 404


async def test_another_accounts_tokens_are_not_found(pier: Pier) -> None:
    store = pier.services.store
    other = await store.create_account("someone")
    other_token = await store.create_token(other["id"], "theirs")
    theirs = (await pier.client.get("/v1/account/tokens", headers=bearer(other_token))).json()
    [their_id] = [t["id"] for t in theirs["results"]]
    mine = (await pier.client.get("/v1/account/tokens")).json()["results"]
    assert their_id not in {t["id"] for t in mine}
    patch = await pier.client.patch(f"/v1/account/tokens/{their_id}", json={"name": "mine"})
    assert patch.status_code == 404
    assert (await pier.client.delete(f"/v1/account/tokens/{their_id}")).status_code == 404
    assert (await pier.client.get("/v1/account", headers=bearer(other_token))).status_code == 200
