"""Signing in with GitHub and OpenID Connect through the test providers: who lands in which
account, who may make one (`allow_signup`), and the state check."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.auth.conftest import handoff_code, through_provider
from tests.auth.providers import FakeGitHub, FakeOIDC, Person, User
from tests.conftest import running_pier

ALICE = User(
    1, "alice", "Alice A", [{"email": "alice@example.com", "verified": True, "primary": True}]
)


def verified(address: str) -> dict[str, Any]:
    return {"email": address, "verified": True, "primary": True}


async def playground_session(client: httpx.AsyncClient, answer: httpx.Response) -> str:
    """Trade the handed-off code as the playground does; the session token."""
    traded = await client.post("/auth/login", json={"code": handoff_code(answer)})
    assert traded.status_code == 200, traded.text
    return str(traded.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signin_settings(github: FakeGitHub, oidc: FakeOIDC, allow: str) -> dict[str, Any]:
    return {**github.settings, **oidc.settings, "allow_signup": allow}


async def test_github_sign_in_makes_an_account_once_and_signs_into_it_again(
    tmp_path: Path, github: FakeGitHub, oidc: FakeOIDC, database: str
) -> None:
    settings = signin_settings(github, oidc, "github:alice")
    async with running_pier(tmp_path, database=database, **settings) as pier:
        client = pier.client
        listed = (await client.get("/auth/providers")).json()["providers"]
        assert [(p["id"], p["name"]) for p in listed] == [
            ("github", "GitHub"),
            ("oidc", "Example ID"),
        ]

        github.signed_in_as = ALICE
        answer = await through_provider(client, "github", next_="/predictions")
        assert "next=%2Fpredictions" in answer.headers["location"]
        token = await playground_session(client, answer)
        me = (await client.get("/v1/account", headers=bearer(token))).json()
        assert (me["username"], me["name"], me["email"], me["admin"]) == (
            "alice",
            "Alice A",
            "alice@example.com",
            False,
        )
        sessions = (await client.get("/v1/account/tokens", headers=bearer(token))).json()
        [session] = sessions["results"]
        assert session["kind"] == "session" and session["current"] is True
        expires = datetime.fromisoformat(session["expires_at"].replace("Z", "+00:00"))
        assert 13.9 < (expires - datetime.now(UTC)).total_seconds() / 86400 < 14.1

        # The same person again lands in the same account, with a second session.
        again = await playground_session(client, await through_provider(client, "github"))
        assert again != token
        assert (await client.get("/v1/account", headers=bearer(again))).json()[
            "username"
        ] == "alice"
        assert (
            len((await client.get("/v1/account/tokens", headers=bearer(again))).json()["results"])
            == 2
        )


async def test_allow_signup_rules(tmp_path: Path, github: FakeGitHub, oidc: FakeOIDC) -> None:
    rules = "github:alice, github-org:acme, email:corp.example"
    async with running_pier(tmp_path, **signin_settings(github, oidc, rules)) as pier:
        client = pier.client

        async def attempt(user: User) -> httpx.Response:
            github.signed_in_as = user
            return await through_provider(client, "github")

        assert (await attempt(ALICE)).status_code == 303  # github:alice
        assert (await attempt(User(2, "carol", orgs=["other", "Acme"]))).status_code == 303
        assert (
            await attempt(User(3, "erin", emails=[verified("erin@corp.example")]))
        ).status_code == 303

        refused = await attempt(
            User(4, "bob", emails=[verified("bob@example.org")], orgs=["other"])
        )
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
        assert "github:alice, github-org:acme, email:corp.example" in refused.text
        assert "GitHub user bob matches none of them" in refused.text
        unverified = {"email": "frank@corp.example", "verified": False, "primary": True}
        frank = User(5, "frank", emails=[unverified, {**verified("f@else.org"), "primary": False}])
        assert (await attempt(frank)).status_code == 403

        accounts = {u for u in ("alice", "carol", "erin", "bob", "frank")}
        made = {u for u in accounts if await pier.services.store.get_account_by_username(u)}
        assert made == {"alice", "carol", "erin"}


async def test_empty_allow_signup_admits_nobody_new_but_known_people_sign_in(
    tmp_path: Path, github: FakeGitHub, oidc: FakeOIDC
) -> None:
    context = running_pier(tmp_path, **signin_settings(github, oidc, "github:alice"))
    async with context as pier:
        github.signed_in_as = ALICE
        assert (await through_provider(pier.client, "github")).status_code == 303
    context = running_pier(tmp_path, **signin_settings(github, oidc, ""))
    async with context as pier:
        assert (await through_provider(pier.client, "github")).status_code == 303  # known
        github.signed_in_as = User(9, "zed")
        refused = await through_provider(pier.client, "github")
        assert refused.status_code == 403
        assert "does not let new people make an account" in refused.text


async def test_oidc_sign_in_with_verified_email_domain(
    tmp_path: Path, github: FakeGitHub, oidc: FakeOIDC
) -> None:
    async with running_pier(
        tmp_path, **signin_settings(github, oidc, "email:corp.example")
    ) as pier:
        client = pier.client
        oidc.signed_in_as = Person("sub-1", "admin", "Ada", "ada@corp.example", email_verified=True)
        token = await playground_session(client, await through_provider(client, "oidc"))
        me = (await client.get("/v1/account", headers=bearer(token))).json()
        # "admin" is taken (and reserved): the new account gets a free name
        assert (me["username"], me["email"]) == ("admin-2", "ada@corp.example")

        oidc.signed_in_as = Person("sub-2", "mallory", "M", "m@corp.example", email_verified=False)
        refused = await through_provider(client, "oidc")
        assert refused.status_code == 403
        assert "No verified e-mail address" in refused.text


async def test_a_callback_without_its_state_is_refused(
    tmp_path: Path, github: FakeGitHub, oidc: FakeOIDC
) -> None:
    async with running_pier(tmp_path, **signin_settings(github, oidc, "*")) as pier:
        client = pier.client
        github.signed_in_as = ALICE
        start = await client.get("/auth/github/login")
        async with httpx.AsyncClient() as outside:
            back = (await outside.get(start.headers["location"])).headers["location"]
        query = back.split("?", 1)[1]
        stranger = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
        async with stranger:  # another browser, without the cookie of the sign-in it started
            answer = await stranger.get(f"/auth/github/callback?{query}")
        assert answer.status_code == 400 and "Sign-in did not finish" in answer.text
        forged = await client.get("/auth/github/callback?code=x&state=forged")
        assert forged.status_code == 400
        assert (await client.get("/auth/nowhere/login")).status_code == 404
        github.signed_in_as = None  # the person says no at the provider
        denied = await through_provider(client, "github")
        assert denied.status_code == 400 and "nobody signed in" in denied.text


async def test_no_providers_set_up(pier: Any) -> None:
    assert (await pier.client.get("/auth/providers")).json() == {"providers": []}
    assert (await pier.client.get("/auth/github/login")).status_code == 404
    assert (await pier.client.get("/auth/oidc/callback?code=x")).status_code == 404


def test_a_bad_allow_signup_rule_is_named(tmp_path: Path) -> None:
    from pier.api.app import create_app
    from tests.conftest import test_settings

    with pytest.raises(ValueError, match="'gitlab:x' is not a rule"):
        create_app(test_settings(tmp_path, allow_signup="github:a, gitlab:x"))


async def test_an_id_token_signed_with_another_key_is_refused(
    tmp_path: Path, github: FakeGitHub, oidc: FakeOIDC
) -> None:
    async with running_pier(tmp_path, **signin_settings(github, oidc, "*")) as pier:
        oidc.signed_in_as = Person("sub-9", "eve", "Eve", "eve@corp.example", email_verified=True)
        oidc.forger = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        try:
            answer = await through_provider(pier.client, "oidc")
        finally:
            oidc.forger = None
        assert answer.status_code == 502 and "did not check out" in answer.text
        assert await pier.services.store.get_account_by_username("eve") is None
