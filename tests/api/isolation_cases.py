"""What another account gets on each route of the app: CASES, one entry per method and path.

A route of the app without an entry fails tests/api/test_isolation.py, naming the route. Each
case is B trying A's ids (see isolation_world.py) and saying what B must get: 404 for anything
of A's, as for an address that does not exist; 404 for admin routes; B's own things for routes
that act on the caller's own account. The cases for the account, its tokens and money, and the
admin's routes are in isolation_account.py.
"""

from __future__ import annotations

from typing import Any

from tests.api.isolation_account import ACCOUNT_CASES
from tests.api.isolation_world import (
    NOT_FOUND,
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


async def list_predictions(w: World) -> None:
    for query in ("", "?source=all", "?model=alice/private", "?status=succeeded"):
        listed = await w.as_b("GET", "/v1/predictions" + query)
        status(listed, 200)
        ids = {p["id"] for p in listed.json()["results"]}
        assert ids <= {w.b_prediction["id"]}


async def create_training(w: World) -> None:
    # A's private model does not exist for B; A's models are no destination of B's.
    private = f"/v1/models/alice/private/versions/{w.private_version}/trainings"
    body = {"destination": "alice/private", "input": {}}
    status(await w.as_b("POST", private, json=body), NOT_FOUND)
    shared = f"/v1/models/alice/shared/versions/{w.public_version}/trainings"
    for destination in ("alice/shared", "alice/private"):
        body = {"destination": destination, "input": {}}
        refused = await w.as_b("POST", shared, json=body)
        status(refused, NOT_FOUND)
        assert refused.json()["detail"] == "The specified training destination does not exist"


async def list_trainings(w: World) -> None:
    listed = await w.as_b("GET", "/v1/trainings")
    status(listed, 200)
    assert listed.json()["results"] == []


def each_training(suffix: str, method: str) -> Case:
    async def case(w: World) -> None:
        for prediction in w.a_predictions():
            status(await w.as_b(method, f"/v1/trainings/{prediction['id']}{suffix}"), NOT_FOUND)

    return case


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


def shared(path: str, expected: int = 200) -> Case:
    """A route with nobody's data: the same for every account."""

    async def case(w: World) -> None:
        status(await w.as_b("GET", path), expected)

    return case


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
    "POST /v1/models/{owner}/{name}/versions/{version_id}/trainings": create_training,
    "GET /v1/trainings": list_trainings,
    "GET /v1/trainings/{training_id}": each_training("", "GET"),
    "POST /v1/trainings/{training_id}/cancel": each_training("/cancel", "POST"),
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
    "GET /v1/hardware": shared("/v1/hardware"),
    "GET /openapi.json": shared("/openapi.json"),
    "GET /": shared("/"),
    "GET /static/{path:path}": shared("/static/app.css"),
    "GET /{page:path}": playground_page,
    "GET /auth/providers": shared("/auth/providers"),
    "GET /auth/{provider}/login": shared("/auth/nobody/login", NOT_FOUND),
    "GET /auth/{provider}/callback": shared("/auth/nobody/callback", NOT_FOUND),
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
    **ACCOUNT_CASES,
}
