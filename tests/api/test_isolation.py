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

import base64
import os
import subprocess
import sys
from pathlib import Path

import fastapi.routing
import pytest

from pier.api.app import create_app
from pier.bootstrap import builtin_dirs
from pier.registry import ModelDir, ModelDirError
from pier.store import Store
from tests import conftest
from tests.api.isolation_cases import CASES
from tests.api.isolation_world import (
    IDEMPOTENCY_KEY,
    NOT_FOUND,
    a_view,
    differences,
    headers_for,
    make_world,
    start_running,
    status,
    wait_done,
)
from tests.conftest import Pier, model_dir


def app_routes() -> set[str]:
    """Every method and path the app answers, as "METHOD /path" (HEAD beside GET left out)."""
    app = create_app(conftest.test_settings(Path("/nonexistent")))
    # Newer FastAPI keeps included routers nested in app.routes; iter_route_contexts unfolds them.
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
        "These routes have no cross-account case in tests/api/isolation_cases.py (CASES) or "
        "isolation_account.py (ACCOUNT_CASES); add one "
        "saying what another account gets (404 for anything of someone else's):\n  "
        + "\n  ".join(missing)
    )
    stale = sorted(CASES.keys() - routes)
    assert not stale, "CASES names routes the app no longer has: " + ", ".join(stale)


async def test_another_account_finds_nothing_of_ones_own_on_any_route(pier: Pier) -> None:
    world = await make_world(pier)
    await start_running(world)
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
    running = await world.as_a("GET", f"/v1/predictions/{world.running['id']}")
    assert running.json()["status"] == "processing"  # B's cancel did not reach it
    status(await world.as_a("POST", f"/v1/predictions/{world.running['id']}/cancel"), 200)
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
