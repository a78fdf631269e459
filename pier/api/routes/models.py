"""Models and versions: list, search (QUERY), get, readme, cover images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from pier.api import runtime, serialize
from pier.api.deps import AccountDep, ServicesDep, decode_cursor, encode_cursor
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.jobs import Status
from pier.store import Row

router = APIRouter()
PAGE_SIZE = 50


async def render_model(svc: ServicesDep, model: Row) -> dict[str, Any]:
    latest = None
    if model["latest_version_id"]:
        latest = await svc.store.get_version(model["id"], model["latest_version_id"])
    example = None
    if model.get("default_example_id"):
        example = await svc.store.get_prediction(model["default_example_id"])
        if example is not None and example["status"] != Status.SUCCEEDED:
            example = None
    body = serialize.model(model, svc.base_url, latest, example)
    if latest is not None:
        recent = await svc.store.recent_successes(str(latest["id"]))
        body["run_time"] = runtime.measured(latest["openapi_schema"], recent, example)
    return body


async def _page(svc: ServicesDep, account: Row, cursor: str | None, search: str | None) -> Response:
    after = decode_cursor(cursor) if cursor else None
    rows = await svc.store.list_models(account["id"], after, PAGE_SIZE + 1, search)
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_url = f"{svc.base_url}/v1/models?cursor=" + encode_cursor(
            [rows[-1]["owner"], rows[-1]["name"]]
        )
    results = [await render_model(svc, row) for row in rows]
    return json_response(serialize.page(results, next_url))


@router.get("/v1/models")
async def list_models(
    svc: ServicesDep, account: AccountDep, cursor: str | None = None, q: str | None = None
) -> Response:
    return await _page(svc, account, cursor, q)


# OpenAPI 3.1 has no QUERY method; GET /v1/models?q= is the same search, described.
@router.api_route("/v1/models", methods=["QUERY"], include_in_schema=False)
async def search_models(request: Request, svc: ServicesDep, account: AccountDep) -> Response:
    text = (await request.body()).decode(errors="replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return await _page(svc, account, None, text or None)


async def _model(svc: ServicesDep, account: Row, owner: str, name: str) -> Row:
    model = await svc.store.get_model(owner, name, account["id"])
    if model is None:
        raise not_found(f"Model {owner}/{name}")
    return model


@router.get("/v1/models/{owner}/{name}")
async def get_model(owner: str, name: str, svc: ServicesDep, account: AccountDep) -> Response:
    return json_response(await render_model(svc, await _model(svc, account, owner, name)))


@router.get("/v1/models/{owner}/{name}/readme")
async def get_readme(owner: str, name: str, svc: ServicesDep, account: AccountDep) -> Response:
    model = await _model(svc, account, owner, name)
    if not model.get("readme"):
        raise not_found(f"A model card for {owner}/{name}")
    return Response(model["readme"], media_type="text/markdown; charset=utf-8")


@router.get("/v1/models/{owner}/{name}/versions")
async def list_versions(owner: str, name: str, svc: ServicesDep, account: AccountDep) -> Response:
    model = await _model(svc, account, owner, name)
    rows = await svc.store.list_versions(model["id"])
    return json_response(serialize.page([serialize.version(r) for r in rows], None))


@router.get("/v1/models/{owner}/{name}/versions/{version_id}")
async def get_version(
    owner: str, name: str, version_id: str, svc: ServicesDep, account: AccountDep
) -> Response:
    model = await _model(svc, account, owner, name)
    row = await svc.store.get_version(model["id"], version_id)
    if row is None:
        raise not_found(f"Version {version_id} of {owner}/{name}")
    return json_response(serialize.version(row))


@router.delete("/v1/models/{owner}/{name}/versions/{version_id}", include_in_schema=False)
async def delete_version(
    owner: str, name: str, version_id: str, svc: ServicesDep, account: AccountDep
) -> Response:
    """Versions are immutable: 405 for a version one can see, 404 (as for any address that
    does not exist) for a version of a model one cannot."""
    model = await _model(svc, account, owner, name)
    if await svc.store.get_version(model["id"], version_id) is None:
        raise not_found(f"Version {version_id} of {owner}/{name}")
    raise ApiError(405, "Versions are immutable in Pier and cannot be deleted.")


@router.get("/covers/{model_id}")
async def cover(model_id: str, svc: ServicesDep) -> Response:
    """A model's cover image, served without a token (an <img> sends none); only ever a file of
    a registered version. The model id in the address is shown only to those who can see the
    model, so for a private model the address itself is the credential, like a file's link."""
    model = await svc.store.get_model_by_id(model_id)
    path = Path(model["cover_image"]).resolve() if model and model.get("cover_image") else None
    versions = (svc.settings.data_dir / "versions").resolve()
    if path is None or not path.is_relative_to(versions) or not path.is_file():
        raise not_found("Cover image")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
