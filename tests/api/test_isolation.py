"""One account's objects are not found by another, on every route of the app.

Account A (alice) makes one of everything: a private model with a model card and a cover, a
public model, a prediction whose large data: URI input is stored as a file, an uploaded file.
Account B (bob) then tries A's ids on every route the app has. Each route has an entry in CASES
saying what B must get; a route without one fails `test_every_route_has_an_isolation_case`
until somebody writes its case. Private models of others are 404, like an address that does not
exist; admin routes are 404 to everyone else (pier/api/routes/admin.py). Public models are the
one thing shared: B can see and run them, and B's predictions are B's alone.

Two kinds of URL are credentials in themselves and are served to whoever holds them: public file
links (/files/<token>/<name>) and prediction streams (/v1/streams/<id>/<token>); cover images
(/covers/<model id>) are links of the same kind, and the model id in them is shown only to those
who can see the model. For these the cases check that a guessed or mismatched token gets 404 and
that nothing of A's ever reaches B.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest

from pier.api.app import create_app
from pier.bootstrap import builtin_dirs
from pier.registry import ModelDir, ModelDirError, register
from pier.store import Row, Store
from tests import conftest
from tests.conftest import BUILTIN, Pier, model_dir


@dataclass
class World:
    """What A made, and every answer B got (to check none of them carries A's data)."""

    pier: Pier
    alice: Row
    a: dict[str, str]  # A's Authorization header
    b: dict[str, str]  # B's
    private_model: Row
    private_version: str
    public_version: str
    prediction: dict[str, Any]  # A's, on the private model
    upload: dict[str, Any]  # A's file from POST /v1/files
    input_file: Row  # the file A's data: URI input was stored as
    b_prediction: dict[str, Any]  # B's own, on A's public model
    alice_token: str  # the id of A's API token
    answers: list[httpx.Response] = field(default_factory=list)

    async def as_b(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.b, **kwargs.pop("headers", {})}
        response = await self.pier.client.request(method, url, headers=headers, **kwargs)
        self.answers.append(response)
        assert response.status_code < 500, f"{method} {url}: {response.text}"
        return response

    async def as_a(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.pier.client.request(method, url, headers=self.a, **kwargs)

    def secrets(self) -> dict[str, str]:
        """Things of A's that B never sends, so that no answer to B may contain them."""
        return {
            "A's webhook secret": self.alice["webhook_secret"],
            "A's private model id": self.private_model["id"],
            "A's private model description": "alice-private-description",
            "A's model card": "alice-private-card",
            "A's prediction input": "alice-input-bytes",
            "A's uploaded file content": "alice-upload-bytes",
            "A's stream token": self.prediction["urls"]["stream"].rsplit("/", 1)[1],
            "A's input file link": self.input_file["public_token"],
            "A's top-up": TOP_UP_MEMO,
        }


Case = Callable[[World], Awaitable[None]]
TOP_UP_MEMO = "alice-top-up-memo"
IDEMPOTENCY_KEY = "alice-create-1"  # the key of A's create; B's key of the same name is B's own
NOT_FOUND = 404


def status(response: httpx.Response, expected: int) -> None:
    assert response.status_code == expected, (
        f"{response.request.method} {response.request.url}: {response.status_code} "
        f"{response.text[:300]}"
    )


async def headers_for(pier: Pier, username: str) -> tuple[Row, dict[str, str]]:
    account = await pier.services.store.create_account(username)
    token = await pier.services.store.create_token(account["id"], "test")
    return account, {"Authorization": f"Bearer {token}"}


async def register_as(pier: Pier, account: Row, name: str, directory: Path, **kw: Any) -> Row:
    svc = pier.services
    _, version, _ = await register(
        svc.store, svc.files.blobs, svc.settings.data_dir, account, directory, name, **kw
    )
    return version


async def make_world(pier: Pier) -> World:
    alice, a = await headers_for(pier, "alice")
    _, b = await headers_for(pier, "bob")
    private_dir = model_dir(pier.tmp, "input_path.py")
    (private_dir / "README.md").write_text("# alice-private-card\n")
    shutil.copy(BUILTIN / "image-filter" / "cover.png", private_dir / "cover.png")
    (private_dir / "pier.yaml").write_text(
        "description: alice-private-description\ncover_image: cover.png\n"
    )
    private = await register_as(pier, alice, "alice/private", private_dir)
    public = await register_as(
        pier, alice, "alice/shared", model_dir(pier.tmp, "input_file.py"), visibility="public"
    )
    private_model = await pier.services.store.get_model("alice", "private")
    assert private_model is not None and private_model["visibility"] == "private"

    content = b"alice-input-bytes " + b"." * 60_000  # stored as a file, not kept inline
    data_uri = "data:text/plain;base64," + base64.b64encode(content).decode()
    created = await pier.client.post(
        "/v1/models/alice/private/predictions",
        json={"input": {"image": data_uri}},
        headers={**a, "Prefer": "wait=30", "Idempotency-Key": IDEMPOTENCY_KEY},
    )
    status(created, 201)
    prediction = await wait_done(pier, a, created.json()["id"])
    assert prediction["status"] == "succeeded", prediction
    link = prediction["input"]["image"]
    assert link.startswith(f"{pier.services.settings.base_url}/files/"), link
    input_file = await pier.services.store.get_file_by_token(link.split("/")[-2])
    assert input_file is not None

    upload = await pier.client.post(
        "/v1/files", files={"content": ("notes.txt", b"alice-upload-bytes")}, headers=a
    )
    status(upload, 201)

    mine = await pier.client.post(
        "/v1/models/alice/shared/predictions",
        json={"input": {"data": "data:text/plain;base64," + base64.b64encode(b"bob").decode()}},
        headers={**b, "Prefer": "wait=30"},
    )
    status(mine, 201)
    b_prediction = await wait_done(pier, b, mine.json()["id"])
    assert b_prediction["status"] == "succeeded" and b_prediction["output"] == "bob"
    return World(
        pier,
        alice,
        a,
        b,
        private_model,
        private["id"],
        public["id"],
        prediction,
        upload.json(),
        input_file,
        b_prediction,
        (await pier.services.store.list_tokens(alice["id"]))[0]["id"],
    )


async def wait_done(pier: Pier, headers: dict[str, str], prediction_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        response = await pier.client.get(f"/v1/predictions/{prediction_id}", headers=headers)
        body: dict[str, Any] = response.json()
        if body.get("status") in ("succeeded", "failed", "canceled"):
            return body
        assert time.monotonic() < deadline, f"prediction still {body.get('status')}: {body}"
        await asyncio.sleep(0.02)


# -- the cases: what B gets on each route ----------------------------------------------------


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
    status(await w.as_b("GET", f"/v1/predictions/{w.prediction['id']}"), NOT_FOUND)


async def cancel_prediction(w: World) -> None:
    status(await w.as_b("POST", f"/v1/predictions/{w.prediction['id']}/cancel"), NOT_FOUND)


async def list_predictions(w: World) -> None:
    for query in ("", "?source=all", "?model=alice/private", "?status=succeeded"):
        listed = await w.as_b("GET", "/v1/predictions" + query)
        status(listed, 200)
        ids = {p["id"] for p in listed.json()["results"]}
        assert w.prediction["id"] not in ids
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
        for token in (own_token, "x" * 32):  # B's own token does not open A's stream
            url = f"{prefix}/{w.prediction['id']}/{token}"
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


async def logout(w: World) -> None:
    # Ends the session the request carries, nobody else's; an API token goes on working.
    status(await w.as_b("POST", "/auth/logout"), 204)
    status(await w.as_b("GET", "/v1/account"), 200)


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


CASES: dict[str, Case] = {
    "POST /v1/predictions": create_by_version,
    "POST /v1/models/{owner}/{name}/predictions": create_by_model,
    "GET /v1/predictions/{prediction_id}": get_prediction,
    "POST /v1/predictions/{prediction_id}/cancel": cancel_prediction,
    "GET /v1/predictions": list_predictions,
    "GET /v1/models": list_models,
    "QUERY /v1/models": search_models,
    "GET /v1/models/{owner}/{name}": get_model,
    "GET /v1/models/{owner}/{name}/readme": get_readme,
    "GET /v1/models/{owner}/{name}/versions": list_versions,
    "GET /v1/models/{owner}/{name}/versions/{version_id}": get_version,
    "DELETE /v1/models/{owner}/{name}/versions/{version_id}": delete_version,
    "POST /v1/models/{owner}/{name}/versions": push_version,
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
    "PUT /v1/admin/tokens/{token_id}/priority": admin_only(
        "PUT", "/v1/admin/tokens/{token_id}/priority", {"priority": "high"}
    ),
}


def app_routes() -> set[str]:
    """Every method and path the app answers, as "METHOD /path" (HEAD beside GET left out)."""
    app = create_app(conftest.test_settings(Path("/nonexistent")))
    # FastAPI 0.120 and later keep included routers nested; iter_route_contexts unfolds them.
    unfold = getattr(fastapi.routing, "iter_route_contexts", iter)
    found = set()
    for route in unfold(app.routes):
        methods = set(getattr(route, "methods", None) or ())
        if "GET" in methods:
            methods.discard("HEAD")
        found |= {f"{method} {route.path}" for method in methods}
    return found


def test_every_route_has_an_isolation_case() -> None:
    routes = app_routes()
    missing = sorted(routes - CASES.keys())
    assert not missing, (
        "These routes have no cross-account case in tests/api/test_isolation.py CASES; add one "
        "saying what another account gets (404 for anything of someone else's):\n  "
        + "\n  ".join(missing)
    )
    stale = sorted(CASES.keys() - routes)
    assert not stale, "CASES names routes the app no longer has: " + ", ".join(stale)


async def a_view(w: World) -> dict[str, tuple[int, Any]]:
    """Everything A can read of its own (status and body), to compare before and after B's
    attempts. A model's run_count is left out: it is cached for a second, so it may not show
    B's earlier runs of the public model yet."""
    urls = [
        f"/v1/predictions/{w.prediction['id']}",
        "/v1/predictions?source=all",
        "/v1/files",
        f"/v1/files/{w.upload['id']}",
        f"/v1/files/{w.upload['id']}/download",
        f"/v1/files/{w.input_file['id']}",
        f"/v1/files/{w.input_file['id']}/download",
        "/v1/models/alice/private",
        "/v1/models/alice/private/versions",
        "/v1/models/alice/private/readme",
        "/v1/models/alice/shared",
        "/v1/models/alice/shared/versions",
        "/v1/webhooks/default/secret",
    ]
    view: dict[str, tuple[int, Any]] = {}
    for url in urls:
        response = await w.as_a("GET", url)
        body: Any = response.content
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            body.pop("run_count", None)
        view[url] = (response.status_code, body)
    return view


def differences(url: str, before: tuple[int, Any], after: tuple[int, Any]) -> str:
    """What changed in one of A's answers, shortly ("" for nothing)."""
    if before == after:
        return ""
    (old_status, old), (new_status, new) = before, after
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        old, new = {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}
    return f"{url}: {old_status} {str(old)[:300]} became {new_status} {str(new)[:300]}"


async def test_another_account_finds_nothing_of_ones_own_on_any_route(pier: Pier) -> None:
    world = await make_world(pier)
    before = await a_view(world)
    assert all(code == 200 for code, _ in before.values()), before
    failures = []
    for route in sorted(app_routes() & CASES.keys()):
        try:
            await CASES[route](world)
        except AssertionError as exc:
            failures.append(f"{route}: {exc}")
    assert not failures, "\n".join(failures)
    after = await a_view(world)
    changed = [differences(url, before[url], after[url]) for url in before]
    assert not any(changed), "B's attempts changed what A sees: " + "; ".join(filter(None, changed))
    for answer in world.answers:
        for what, secret in world.secrets().items():
            assert secret not in answer.text, (
                f"{answer.request.method} {answer.request.url} showed B {what}"
            )


async def test_a_public_model_is_run_by_anyone_and_each_run_is_the_runners(pier: Pier) -> None:
    world = await make_world(pier)
    as_b, as_a = world.as_b, world.as_a
    status(await as_b("GET", "/v1/models/alice/shared"), 200)
    versions = await as_b("GET", "/v1/models/alice/shared/versions")
    assert [v["id"] for v in versions.json()["results"]] == [world.public_version]
    one = f"/v1/models/alice/shared/versions/{world.public_version}"
    status(await as_b("GET", one), 200)
    refused = await as_b("DELETE", one)  # seen, so not 404: versions are immutable
    assert refused.status_code == 405 and refused.headers["allow"] == "GET"

    data = "data:text/plain;base64," + base64.b64encode(b"hi").decode()
    runs = [world.b_prediction["id"]]
    for ref in (world.public_version, f"alice/shared:{world.public_version}", "alice/shared"):
        made = await as_b("POST", "/v1/predictions", json={"version": ref, "input": {"data": data}})
        status(made, 201)
        runs.append(made.json()["id"])
    again = await as_b(
        "POST",
        "/v1/models/alice/shared/predictions",
        json={"input": {"data": data}},
        headers={"Idempotency-Key": IDEMPOTENCY_KEY},
    )
    status(again, 201)
    assert again.json()["id"] != world.prediction["id"]
    runs.append(again.json()["id"])
    for prediction_id in runs:
        done = await wait_done(pier, world.b, prediction_id)
        assert done["status"] == "succeeded" and done["output"] in ("hi", "bob")
        status(await as_a("GET", f"/v1/predictions/{prediction_id}"), NOT_FOUND)
        status(await as_a("POST", f"/v1/predictions/{prediction_id}/cancel"), NOT_FOUND)
    listed = await as_b("GET", "/v1/predictions")
    assert {p["id"] for p in listed.json()["results"]} == set(runs)
    theirs = await as_a("GET", "/v1/predictions?source=all")
    assert not {p["id"] for p in theirs.json()["results"]} & set(runs)
    rows = [await pier.services.store.get_prediction(pid) for pid in runs]
    bob = await pier.services.store.get_account_by_username("bob")
    assert bob is not None and all(row and row["account_id"] == bob["id"] for row in rows)

    # A's file, named by its API URL, is not B's to feed a model; a link A handed out is.
    api_url = f"{pier.services.settings.base_url}/v1/files/{world.upload['id']}"
    stolen = await as_b(
        "POST",
        "/v1/predictions",
        json={"version": world.public_version, "input": {"data": api_url}},
    )
    status(stolen, 201)
    failed = await wait_done(pier, world.b, stolen.json()["id"])
    assert failed["status"] == "failed" and "not found" in failed["error"]
    assert "alice-upload-bytes" not in str(failed)

    # A run is paid by the one who runs it, never from the model owner's credit.
    price = {"model": "alice/shared", "per_run_usd": "0.01"}
    status(await pier.client.put("/v1/admin/prices", json=price), 200)
    credit = {"amount_usd": "1"}
    status(await pier.client.post("/v1/admin/accounts/alice/credit", json=credit), 200)
    unpaid = await as_b(
        "POST", "/v1/models/alice/shared/predictions", json={"input": {"data": data}}
    )
    status(unpaid, 402)
    owner = (await as_a("GET", "/v1/billing")).json()
    assert (owner["balance_usd"], owner["held_usd"]) == ("1.00", "0.00")


def test_every_built_in_model_is_public() -> None:
    for directory in builtin_dirs():
        meta = ModelDir.read(directory).meta
        assert meta.get("visibility") == "public", f"{directory.name}/pier.yaml: visibility"


async def test_a_built_in_model_is_run_by_any_account(pier: Pier) -> None:
    await pier.add_builtin("echo")
    _, b = await headers_for(pier, "bob")
    listed = await pier.client.get("/v1/models", headers=b)
    assert [m["name"] for m in listed.json()["results"]] == ["echo"]
    made = await pier.client.post(
        "/v1/models/pier/echo/predictions", json={"input": {"text": "hi"}}, headers=b
    )
    assert made.status_code == 201
    assert (await wait_done(pier, b, made.json()["id"]))["status"] == "succeeded"


def pier_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIER_ADMIN_TOKEN": "", "PIER_DATABASE": ""},
    )


async def test_models_add_public_shares_a_model_and_private_takes_it_back(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    directory = model_dir(tmp_path, "hello_world.py")

    async def visibility() -> str:
        store = await Store.open(f"sqlite:///{data_dir / 'pier.db'}")
        try:
            model = await store.get_model("admin", "tool")
            assert model is not None
            return str(model["visibility"])
        finally:
            await store.close()

    added = pier_cli("models", "add", str(directory), "--name", "admin/tool", data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    assert await visibility() == "private"  # the default
    shared = ["models", "add", str(directory), "--name", "admin/tool", "--public"]
    again = pier_cli(*shared, data_dir=data_dir)
    assert again.returncode == 0 and "already registered" in again.stdout, again.stderr
    assert await visibility() == "public"
    hidden = pier_cli(*shared[:-1], "--private", data_dir=data_dir)
    assert hidden.returncode == 0, hidden.stderr
    assert await visibility() == "private"


async def test_a_visibility_other_than_public_or_private_is_refused(pier: Pier) -> None:
    directory = model_dir(pier.tmp, "hello_world.py")
    (directory / "pier.yaml").write_text("visibility: everyone\n")
    with pytest.raises(ModelDirError, match="public or private"):
        await pier.add_model("test/odd", directory)
