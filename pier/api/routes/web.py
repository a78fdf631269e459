"""The playground: static files and the single-page app's routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from pier.api.errors import not_found

WEB = Path(__file__).resolve().parents[2] / "web"
router = APIRouter()


def _index() -> Response:
    index = WEB / "index.html"
    if not index.is_file():
        raise not_found("The playground")
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
async def home() -> Response:
    return _index()


@router.get("/static/{path:path}", include_in_schema=False)
async def static(path: str) -> Response:
    target = (WEB / path).resolve()
    if not target.is_relative_to(WEB) or not target.is_file():
        raise not_found("Static file")
    return FileResponse(target, headers={"Cache-Control": "no-cache"})


@router.get("/{page:path}", include_in_schema=False)
async def spa(page: str) -> Response:
    if page.split("/", 1)[0] in ("v1", "files", "covers", "auth", "static"):
        raise not_found("Page")
    return _index()
