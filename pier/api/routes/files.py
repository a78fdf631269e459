"""Files: upload (multipart), get, list, delete; public downloads of output files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from pier.api import openapi, serialize
from pier.api.deps import (
    AccountDep,
    Services,
    ServicesDep,
    decode_time_cursor,
    encode_cursor,
)
from pier.api.errors import ApiError, not_found
from pier.api.jsonbody import loads
from pier.api.jsonresponse import json_response
from pier.blobs import BlobNotFound
from pier.files import FileTooLarge
from pier.store import Row

router = APIRouter()
PAGE_SIZE = 100
# Served files are user content on Pier's own origin: never sniffed into another type, and an
# HTML or SVG file opened directly runs no script (a sandbox with no permissions).
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def too_large(limit: int) -> str:
    """Replicate's wording for the 413 ("Files must be less than 100MB in size")."""
    size = f"{limit // (1024 * 1024)}MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"
    return f"Files must be less than {size} in size"


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1 << 20):
        yield chunk


async def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    raw = await value.read() if isinstance(value, UploadFile) else value
    if isinstance(raw, bytes):
        raw = raw.decode(errors="replace")
    if not str(raw).strip():
        return {}
    try:
        parsed = loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"metadata must be a JSON object: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ApiError(400, "metadata must be a JSON object")
    return parsed


@router.post("/v1/files", status_code=201, openapi_extra=openapi.FILE_UPLOAD)
async def create_file(request: Request, svc: ServicesDep, account: AccountDep) -> Response:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "Upload files as multipart/form-data with a part named 'content'.")
    form = await request.form(max_part_size=svc.settings.max_file_bytes)
    try:
        content = form.get("content")
        if not isinstance(content, UploadFile):
            raise ApiError(400, "The multipart body needs a file part named 'content'.")
        metadata = await _metadata(form.get("metadata"))
        name = str(form.get("filename") or content.filename or "file")
        declared = str(form.get("type") or content.content_type or "")
        try:
            row = await svc.files.save(account["id"], _chunks(content), name, declared, metadata)
        except FileTooLarge as exc:
            raise ApiError(413, too_large(svc.settings.max_file_bytes)) from exc
    finally:
        await form.close()
    return json_response(serialize.file(row, svc.base_url), 201)


@router.get("/v1/files")
async def list_files(svc: ServicesDep, account: AccountDep, cursor: str | None = None) -> Response:
    before = None
    if cursor:
        before = decode_time_cursor(cursor)
    rows = await svc.store.list_files(account["id"], before, PAGE_SIZE + 1)
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        token = encode_cursor([rows[-1]["created_at"].isoformat(), rows[-1]["id"]])
        next_url = f"{svc.base_url}/v1/files?cursor={token}"
    results = [serialize.file(r, svc.base_url) for r in rows]
    return json_response(serialize.page(results, next_url))


@router.get("/v1/files/{file_id}")
async def get_file(file_id: str, svc: ServicesDep, account: AccountDep) -> Response:
    row = await svc.store.get_file(file_id, account["id"])
    if row is None:
        raise not_found(f"File {file_id}")
    return json_response(serialize.file(row, svc.base_url))


@router.get("/v1/files/{file_id}/download")
async def download_file(
    file_id: str, request: Request, svc: ServicesDep, account: AccountDep
) -> Response:
    row = await svc.store.get_file(file_id, account["id"])
    if row is None:
        raise not_found(f"File {file_id}")
    # Names are made safe when stored (letters, digits, . _ -), so they need no quoting here.
    return await _serve(
        request, svc, row, {"Content-Disposition": f'attachment; filename="{row["name"]}"'}
    )


@router.delete("/v1/files/{file_id}", status_code=204)
async def delete_file(file_id: str, svc: ServicesDep, account: AccountDep) -> Response:
    row = await svc.store.get_file(file_id, account["id"])
    if row is None:
        raise not_found(f"File {file_id}")
    await svc.files.delete(row)
    return Response(status_code=204)


@router.get("/files/{token}/{name}")
async def public_file(token: str, name: str, request: Request, svc: ServicesDep) -> Response:
    row = await svc.store.get_file_by_token(token)
    if row is None:
        raise not_found("File")
    return await _serve(request, svc, row, {"Cache-Control": "public, max-age=31536000, immutable"})


def _byte_range(request: Request, size: int, etag: str) -> tuple[int, int] | None:
    """The one range of bytes a Range header asks for (first, last), or None for all of them.

    A Range the server cannot read, asks for several ranges, or comes with an If-Range that no
    longer matches gets the whole file, as RFC 9110 allows; a range past the end is a 416.
    """
    header = request.headers.get("range", "")
    if_range = request.headers.get("if-range")
    if not header or if_range not in (None, etag):
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or "," in spec or not dash:
        return None
    try:
        if first.strip():
            start = int(first)
            end = int(last) if last.strip() else size - 1
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
    except ValueError:
        return None
    if start >= size:
        raise ApiError(
            416, f"The file has {size} bytes.", headers={"Content-Range": f"bytes */{size}"}
        )
    if start < 0 or end < start:
        return None
    return start, min(end, size - 1)


async def _serve(request: Request, svc: Services, row: Row, extra: dict[str, str]) -> Response:
    """A stored file's bytes, streamed from the file store, honouring a single Range."""
    size, etag = int(row["size"]), f'"{row["md5"]}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": formatdate(row["created_at"].timestamp(), usegmt=True),
        **SAFE_HEADERS,
        **extra,
    }
    wanted = _byte_range(request, size, etag)
    start, end, status = 0, size - 1, 200
    if wanted is not None:
        (start, end), status = wanted, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    try:
        body = await svc.files.open(row, start, end if size else None)
    except BlobNotFound as exc:
        raise not_found("File") from exc
    return StreamingResponse(body, status, headers, media_type=row["content_type"])
