"""What another account gets on each route of the app: CASES, one entry per method and path.

A route of the app without an entry fails tests/api/test_isolation.py, naming the route. Each
case is B trying A's ids (see isolation_world.py) and saying what B must get: 404 for anything
of A's, as for an address that does not exist; 404 for admin routes; B's own things for routes
that act on the caller's own account.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pier.store import Row
from tests.api.isolation_world import (
    NOT_FOUND,
    TOP_UP_MEMO,
    Case,
    World,
    status,
)


async def create_by_version(w: World) -> None:
    refs = [
        w.private_version,
        "alice/private",
        f"alice/private:{w.private_version}",
        f"alice/shared:{w.private_version}",  # A's private version under a public model's name
    ]
    for ref in refs:  # Replicate's answer for a version one may not use
        response = await w.as_b("POST", "/v1/predictions", json={"version": ref, "input": {}})
        status(response, 422)
        assert response.json()["title"] == "Invalid version or not permitted"
    tweak = await w.as_b(
        "POST",
        "/v1/predictions",
        json={
            "version": w.public_version,
            "input": {"data": "data:,b"},
            "tweaked_from": w.prediction["id"],
        },
    )
    status(tweak, 422)  # another's prediction is not one of B's to tweak
    assert "tweaked_from" in tweak.text


async def create_by_model(w: World) -> None:
    response = await w.as_b(
        "POST", "/v1/models/alice/private/predictions", json={"input": {"image": "data:,x"}}
    )
    status(response, NOT_FOUND)


async def get_prediction(w: World) -> None:
    for prediction in w.a_predictions():
        status(await w.as_b("GET", f"/v1/predictions/{prediction['id']}"), NOT_FOUND)


async def cancel_prediction(w: World) -> None:
    for prediction in w.a_predictions():
        url = f"/v1/predictions/{prediction['id']}/cancel"
        status(await w.as_b("POST", url), NOT_FOUND)


async def delete_prediction(w: World) -> None:
    for prediction in w.a_predictions():
        status(await w.as_b("DELETE", f"/v1/predictions/{prediction['id']}"), NOT_FOUND)
        still = await w.as_a("GET", f"/v1/predictions/{prediction['id']}")
        status(still, 200)


async def patch_account(w: World) -> None:
    mine = await w.as_b("PATCH", "/v1/account", json={"data_retention_seconds": 60})
    status(mine, 200)
    assert mine.json()["username"] == "bob"
    alice = await w.as_a("GET", "/v1/account")
    assert alice.json()["data_retention_default"] is True  # B's choice is B's alone


async def list_predictions(w: World) -> None:
    for query in ("", "?source=all", "?model=alice/private", "?status=succeeded"):
        listed = await w.as_b("GET", "/v1/predictions" + query)
        status(listed, 200)
        ids = {p["id"] for p in listed.json()["results"]}
        assert ids <= {w.b_prediction["id"]}


async def list_models(w: World) -> None:
    for query in ("", "?q=alice"):
        listed = await w.as_b("GET", "/v1/models" + query)
        status(listed, 200)
        names = {f"{m['owner']}/{m['name']}" for m in listed.json()["results"]}
        assert "alice/private" not in names and "alice/shared" in names


async def search_models(w: World) -> None:
    for text in (b"alice", b"private"):
        found = await w.as_b(
            "QUERY", "/v1/models", content=text, headers={"Content-Type": "text/plain"}
        )
        status(found, 200)
        names = {f"{m['owner']}/{m['name']}" for m in found.json()["results"]}
        assert "alice/private" not in names


async def get_model(w: World) -> None:
    status(await w.as_b("GET", "/v1/models/alice/private"), NOT_FOUND)


async def get_readme(w: World) -> None:
    status(await w.as_b("GET", "/v1/models/alice/private/readme"), NOT_FOUND)


async def list_versions(w: World) -> None:
    status(await w.as_b("GET", "/v1/models/alice/private/versions"), NOT_FOUND)


async def get_version(w: World) -> None:
    for name in ("private", "shared"):
        url = f"/v1/models/alice/{name}/versions/{w.private_version}"
        status(await w.as_b("GET", url), NOT_FOUND)


async def delete_version(w: World) -> None:
    url = f"/v1/models/alice/private/versions/{w.private_version}"
    status(await w.as_b("DELETE", url), NOT_FOUND)


async def push_version(w: World) -> None:
    archive = {"content": b"not a model", "headers": {"Content-Type": "application/gzip"}}
    status(await w.as_b("POST", "/v1/models/alice/private/versions", **archive), NOT_FOUND)
    # a public model can be seen, so the answer may say whose it is
    status(await w.as_b("POST", "/v1/models/alice/shared/versions", **archive), 403)


async def create_model(w: World) -> None:
    # A's namespace is A's: whether a model of that name exists or not, B makes nothing there
    # and learns nothing (the same answer either way).
    for name in ("private", "shared", "not-made-yet"):
        body = {"owner": "alice", "name": name, "visibility": "public", "hardware": "cpu"}
        status(await w.as_b("POST", "/v1/models", json=body), 403)
    status(await w.as_a("GET", "/v1/models/alice/not-made-yet"), NOT_FOUND)
    own = {"owner": "bob", "name": "private", "visibility": "private", "hardware": "cpu"}
    status(await w.as_b("POST", "/v1/models", json=own), 201)  # a name of A's is B's to use too


def change_model(method: str) -> Case:
    async def case(w: World) -> None:
        body = {"description": "bob was here"} if method == "PATCH" else None
        status(await w.as_b(method, "/v1/models/alice/private", json=body), NOT_FOUND)
        # a public model can be seen, so the answer may say it is another's
        status(await w.as_b(method, "/v1/models/alice/shared", json=body), 403)

    return case


async def list_collections(w: World) -> None:
    listed = await w.as_b("GET", "/v1/collections")
    status(listed, 200)
    for summary in listed.json()["results"]:
        status(await w.as_b("GET", f"/v1/collections/{summary['slug']}"), 200)


async def get_collection(w: World) -> None:
    seen = set()
    for slug in ("image", "video", "text", "audio", "embedding", "other"):
        collection = await w.as_b("GET", f"/v1/collections/{slug}")
        status(collection, 200)
        seen |= {f"{m['owner']}/{m['name']}" for m in collection.json()["models"]}
    assert "alice/private" not in seen and "alice/shared" in seen


async def cover(w: World) -> None:
    # A link (like a file link): the model id in it is shown only to those who see the model.
    status(await w.as_b("GET", "/covers/" + "a" * 26), NOT_FOUND)
    mine = await w.as_a("GET", f"/covers/{w.private_model['id']}")
    status(mine, 200)


async def upload_file(w: World) -> None:
    made = await w.as_b("POST", "/v1/files", files={"content": ("b.txt", b"bob-bytes")})
    status(made, 201)
    status(await w.as_a("GET", f"/v1/files/{made.json()['id']}"), NOT_FOUND)


async def list_files(w: World) -> None:
    listed = await w.as_b("GET", "/v1/files")
    status(listed, 200)
    ids = {f["id"] for f in listed.json()["results"]}
    assert w.upload["id"] not in ids and w.input_file["id"] not in ids


def each_file(suffix: str, method: str = "GET") -> Case:
    async def case(w: World) -> None:
        for file_id in (w.upload["id"], w.input_file["id"]):
            status(await w.as_b(method, f"/v1/files/{file_id}{suffix}"), NOT_FOUND)

    return case


async def public_file(w: World) -> None:
    # A link is its own credential; one that was never handed out is not found.
    status(await w.as_b("GET", f"/files/{'x' * 32}/{w.input_file['name']}"), NOT_FOUND)


def stream(prefix: str) -> Case:
    async def case(w: World) -> None:
        own_token = w.b_prediction["urls"]["stream"].rsplit("/", 1)[1]
        for prediction in w.a_predictions():
            for token in (own_token, "x" * 32):  # B's own token does not open A's stream
                url = f"{prefix}/{prediction['id']}/{token}"
                status(await w.as_b("GET", url), NOT_FOUND)

    return case


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


def shared(path: str, expected: int = 200) -> Case:
    """A route with nobody's data: the same for every account."""

    async def case(w: World) -> None:
        status(await w.as_b("GET", path), expected)

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


async def playground_page(w: World) -> None:
    # The page is the same shell for every address; its data comes from the API routes above.
    page = await w.as_b("GET", "/models/alice/private")
    status(page, 200)
    assert page.content == (await w.as_b("GET", "/")).content


async def alice_deployment(w: World) -> str:
    """A's deployment of A's private model (made once); its URL."""
    url = "/v1/deployments/alice/alice-dep"
    if (await w.as_a("GET", url)).status_code == NOT_FOUND:
        body = {"name": "alice-dep", "model": "alice/private", "version": w.private_version}
        status(await w.as_a("POST", "/v1/deployments", json=body), 200)
    return url


async def create_deployment(w: World) -> None:
    await alice_deployment(w)
    for model, version in (
        ("alice/private", w.private_version),
        ("alice/shared", w.private_version),  # A's private version under a public model's name
    ):
        body = {"name": "b-dep", "model": model, "version": version}
        status(await w.as_b("POST", "/v1/deployments", json=body), 422)
    theirs = {"name": "alice/b-dep", "model": "alice/shared", "version": w.public_version}
    status(await w.as_b("POST", "/v1/deployments", json=theirs), 422)
    # the same name in B's own account is B's own deployment
    mine = {"name": "alice-dep", "model": "alice/shared", "version": w.public_version}
    made = await w.as_b("POST", "/v1/deployments", json=mine)
    status(made, 200)
    assert made.json()["owner"] == "bob"
    status(await w.as_b("DELETE", "/v1/deployments/bob/alice-dep"), 204)


async def list_deployments(w: World) -> None:
    await alice_deployment(w)
    listed = await w.as_b("GET", "/v1/deployments")
    status(listed, 200)
    assert all(d["owner"] == "bob" for d in listed.json()["results"])


def alices_deployment(method: str, suffix: str = "", body: dict[str, Any] | None = None) -> Case:
    """B gets 404 for A's deployment, and A's stays as it was (release 1)."""

    async def case(w: World) -> None:
        url = await alice_deployment(w)
        status(await w.as_b(method, url + suffix, json=body), NOT_FOUND)
        after = await w.as_a("GET", url)
        status(after, 200)
        assert after.json()["current_release"]["number"] == 1

    return case


CASES: dict[str, Case] = {
    "POST /v1/predictions": create_by_version,
    "POST /v1/models/{owner}/{name}/predictions": create_by_model,
    "GET /v1/predictions/{prediction_id}": get_prediction,
    "POST /v1/predictions/{prediction_id}/cancel": cancel_prediction,
    "DELETE /v1/predictions/{prediction_id}": delete_prediction,
    "GET /v1/predictions": list_predictions,
    "GET /v1/models": list_models,
    "QUERY /v1/models": search_models,
    "GET /v1/models/{owner}/{name}": get_model,
    "GET /v1/models/{owner}/{name}/readme": get_readme,
    "GET /v1/models/{owner}/{name}/versions": list_versions,
    "GET /v1/models/{owner}/{name}/versions/{version_id}": get_version,
    "DELETE /v1/models/{owner}/{name}/versions/{version_id}": delete_version,
    "POST /v1/models/{owner}/{name}/versions": push_version,
    "POST /v1/models": create_model,
    "PATCH /v1/models/{owner}/{name}": change_model("PATCH"),
    "DELETE /v1/models/{owner}/{name}": change_model("DELETE"),
    "GET /v1/collections": list_collections,
    "GET /v1/collections/{slug}": get_collection,
    "GET /covers/{model_id}": cover,
    "POST /v1/files": upload_file,
    "GET /v1/files": list_files,
    "GET /v1/files/{file_id}": each_file(""),
    "GET /v1/files/{file_id}/download": each_file("/download"),
    "DELETE /v1/files/{file_id}": each_file("", "DELETE"),
    "GET /files/{token}/{name}": public_file,
    "GET /v1/streams/{prediction_id}/{token}": stream("/v1/streams"),
    "GET /v1/files/streams/{prediction_id}/{token}": stream("/v1/files/streams"),
    "GET /v1/account": account,
    "PATCH /v1/account": patch_account,
    "GET /v1/hardware": shared("/v1/hardware"),
    "GET /v1/webhooks/default/secret": webhook_secret,
    "POST /auth/login": login,
    "GET /v1/admin/cluster": admin_only("GET", "/v1/admin/cluster"),
    "GET /metrics": admin_only("GET", "/metrics"),
    "GET /openapi.json": shared("/openapi.json"),
    "GET /": shared("/"),
    "GET /static/{path:path}": shared("/static/app.css"),
    "GET /{page:path}": playground_page,
    "POST /auth/logout": logout,
    "GET /auth/providers": shared("/auth/providers"),
    "GET /auth/{provider}/login": shared("/auth/nobody/login", NOT_FOUND),
    "GET /auth/{provider}/callback": shared("/auth/nobody/callback", NOT_FOUND),
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
    "POST /v1/deployments": create_deployment,
    "GET /v1/deployments": list_deployments,
    "GET /v1/deployments/{owner}/{name}": alices_deployment("GET"),
    "PATCH /v1/deployments/{owner}/{name}": alices_deployment(
        "PATCH", body={"min_instances": 0, "max_instances": 2}
    ),
    "DELETE /v1/deployments/{owner}/{name}": alices_deployment("DELETE"),
    "POST /v1/deployments/{owner}/{name}/predictions": alices_deployment(
        "POST", "/predictions", {"input": {"image": "data:,x"}}
    ),
    "PUT /v1/admin/tokens/{token_id}/priority": admin_only(
        "PUT", "/v1/admin/tokens/{token_id}/priority", {"priority": "high"}
    ),
}
