"""What another account gets on the routes of one's own account, its tokens and its money, and
on the admin's routes: part of the table of cases in isolation_cases.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pier.store import Row
from tests.api.isolation_world import NOT_FOUND, TOP_UP_MEMO, Case, World, status


async def patch_account(w: World) -> None:
    mine = await w.as_b("PATCH", "/v1/account", json={"data_retention_seconds": 60})
    status(mine, 200)
    assert mine.json()["username"] == "bob"
    alice = await w.as_a("GET", "/v1/account")
    assert alice.json()["data_retention_default"] is True  # B's choice is B's alone


async def account(w: World) -> None:
    me = await w.as_b("GET", "/v1/account")
    status(me, 200)
    assert me.json()["username"] == "bob"


async def webhook_secret(w: World) -> None:
    secret = await w.as_b("GET", "/v1/webhooks/default/secret")
    status(secret, 200)
    assert secret.json()["key"] != w.alice["webhook_secret"]


async def login(w: World) -> None:
    # Codes, not accounts, are what it takes; an unknown one gets nobody's token.
    status(await w.as_b("POST", "/auth/login", json={"code": "not-a-code"}), 401)


def admin_only(method: str, path: str, body: dict[str, Any] | None = None) -> Case:
    """What only an admin sees does not exist for anyone else (and B's body, one the admin
    could send, changes nothing)."""

    async def case(w: World) -> None:
        url = path.replace("{token_id}", w.alice_token)
        status(await w.as_b(method, url, json=body), NOT_FOUND)

    return case


async def session(w: World, account: Row) -> dict[str, str]:
    """A playground session of `account`, as signing in gets one (a login code traded)."""
    code = await w.pier.services.store.create_login_code(account["id"], timedelta(minutes=1))
    made = await w.pier.client.post(
        "/auth/login", json={"code": code}, headers={"Authorization": ""}
    )
    status(made, 200)
    return {"Authorization": f"Bearer {made.json()['token']}"}


async def logout(w: World) -> None:
    # Ends the session the request carries, nobody else's; an API token goes on working.
    bob = await w.pier.services.store.get_account_by_username("bob")
    assert bob is not None
    theirs, mine = await session(w, w.alice), await session(w, bob)
    status(await w.as_b("POST", "/auth/logout", headers=mine), 204)
    status(await w.as_b("GET", "/v1/account", headers=mine), 401)
    status(await w.as_b("POST", "/auth/logout"), 204)
    status(await w.as_b("GET", "/v1/account"), 200)
    status(await w.pier.client.get("/v1/account", headers=theirs), 200)


async def list_tokens(w: World) -> None:
    listed = await w.as_b("GET", "/v1/account/tokens")
    status(listed, 200)
    assert w.alice_token not in {t["id"] for t in listed.json()["results"]}


async def create_token(w: World) -> None:
    made = await w.as_b("POST", "/v1/account/tokens", json={"name": "bob's"})
    status(made, 201)
    theirs = {"Authorization": f"Bearer {made.json()['token']}"}
    me = await w.pier.client.get("/v1/account", headers=theirs)
    assert me.json()["username"] == "bob"


async def rename_token(w: World) -> None:
    url = f"/v1/account/tokens/{w.alice_token}"
    status(await w.as_b("PATCH", url, json={"name": "taken"}), NOT_FOUND)
    row = await w.pier.services.store.get_token(w.alice["id"], w.alice_token)
    assert row is not None and row["name"] == "test"


async def revoke_token(w: World) -> None:
    status(await w.as_b("DELETE", f"/v1/account/tokens/{w.alice_token}"), NOT_FOUND)
    status(await w.as_a("GET", "/v1/account"), 200)  # A's token still works


async def top_up_alice(w: World) -> None:
    """Give A credit (as the admin), so that A's billing has figures B must not see."""
    body = {"amount_usd": "77.123456", "memo": TOP_UP_MEMO}
    status(await w.pier.client.post("/v1/admin/accounts/alice/credit", json=body), 200)


async def billing(w: World) -> None:
    await top_up_alice(w)
    mine = await w.as_b("GET", "/v1/billing")
    status(mine, 200)
    assert mine.json()["balance_usd"] == "0.00"
    assert "77.12" not in mine.text


async def patch_billing(w: World) -> None:
    before = (await w.as_a("GET", "/v1/billing")).json()
    status(await w.as_b("PATCH", "/v1/billing", json={"monthly_limit_usd": "1"}), 200)
    assert (await w.as_a("GET", "/v1/billing")).json() == before


def own_ledger(path: str) -> Case:
    async def case(w: World) -> None:
        await top_up_alice(w)
        status(await w.as_b("GET", path), 200)  # the secrets check: no line of A's

    return case


async def estimate(w: World) -> None:
    url = "/v1/billing/estimate?version="
    status(await w.as_b("GET", url + "alice/private"), NOT_FOUND)
    status(await w.as_b("GET", url + f"alice/private:{w.private_version}"), NOT_FOUND)
    status(await w.as_b("GET", url + "alice/shared"), 200)


async def token_limit(w: World) -> None:
    status(await w.as_b("GET", f"/v1/billing/tokens/{w.alice_token}"), NOT_FOUND)


async def patch_token_limit(w: World) -> None:
    url = f"/v1/billing/tokens/{w.alice_token}"
    status(await w.as_b("PATCH", url, json={"monthly_limit_usd": "0.01"}), NOT_FOUND)
    status(await w.as_a("GET", url), 200)
    assert (await w.as_a("GET", url)).json()["monthly_limit_usd"] is None


async def admin_credit(w: World) -> None:
    body = {"amount_usd": "5"}
    status(await w.as_b("POST", "/v1/admin/accounts/bob/credit", json=body), NOT_FOUND)
    assert (await w.as_b("GET", "/v1/billing")).json()["balance_usd"] == "0.00"


async def admin_prices(w: World) -> None:
    prices = (await w.pier.client.get("/v1/admin/prices")).content
    status(await w.as_b("GET", "/v1/admin/prices"), NOT_FOUND)
    body = {"model": "alice/shared", "per_run_usd": "1"}
    status(await w.as_b("PUT", "/v1/admin/prices", json=body), NOT_FOUND)
    status(await w.as_b("DELETE", "/v1/admin/prices", json={"hardware": "cpu"}), NOT_FOUND)
    assert (await w.pier.client.get("/v1/admin/prices")).content == prices


ACCOUNT_CASES: dict[str, Case] = {
    "GET /v1/account": account,
    "PATCH /v1/account": patch_account,
    "GET /v1/webhooks/default/secret": webhook_secret,
    "POST /auth/login": login,
    "GET /v1/admin/cluster": admin_only("GET", "/v1/admin/cluster"),
    "GET /metrics": admin_only("GET", "/metrics"),
    "POST /auth/logout": logout,
    "GET /v1/account/tokens": list_tokens,
    "POST /v1/account/tokens": create_token,
    "PATCH /v1/account/tokens/{token_id}": rename_token,
    "DELETE /v1/account/tokens/{token_id}": revoke_token,
    "GET /v1/billing": billing,
    "PATCH /v1/billing": patch_billing,
    "GET /v1/billing/ledger": own_ledger("/v1/billing/ledger"),
    "GET /v1/billing/ledger.csv": own_ledger("/v1/billing/ledger.csv"),
    "GET /v1/billing/usage": own_ledger("/v1/billing/usage"),
    "GET /v1/billing/estimate": estimate,
    "GET /v1/billing/tokens/{token_id}": token_limit,
    "PATCH /v1/billing/tokens/{token_id}": patch_token_limit,
    "GET /v1/admin/prices": admin_prices,
    "PUT /v1/admin/prices": admin_prices,
    "DELETE /v1/admin/prices": admin_prices,
    "GET /v1/admin/billing": admin_only("GET", "/v1/admin/billing"),
    "POST /v1/admin/accounts/{username}/credit": admin_credit,
    "PUT /v1/admin/accounts/{username}/priority": admin_only(
        "PUT", "/v1/admin/accounts/bob/priority", {"priority": "high"}
    ),
    "PUT /v1/admin/tokens/{token_id}/priority": admin_only(
        "PUT", "/v1/admin/tokens/{token_id}/priority", {"priority": "high"}
    ),
}
