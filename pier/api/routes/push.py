"""`POST /v1/models/{owner}/{name}/versions`: a new version from an uploaded model directory.

The body is the directory as a tar.gz (what `pier push` sends). The server unpacks it safely
(pier/blobs/upload.py), registers it (pier/registry.py: content hash, environment, schema) and
answers with the version. Pushing content that is already a version of the model returns that
version (200) without building anything; a new one is 201.

With `Accept: application/x-ndjson` the answer streams while the version is built: one JSON
object per line, `{"log": "..."}` for each build log line, then `{"version": {...}, "created":
true|false}` or `{"error": {problem details}}` as the last line (an empty line now and then
keeps the connection alive). A client that goes away does not stop the build.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from pier.api import openapi, serialize
from pier.api.deps import AccountDep, Services, ServicesDep
from pier.api.errors import TITLES, ApiError
from pier.api.jsonresponse import json_response
from pier.api.routes.admin import is_admin
from pier.blobs import BlobsUnavailable
from pier.blobs.upload import UploadError, remove, unpack_model
from pier.envs import EnvConfig
from pier.registry import NAME_RE, ModelDirError, register
from pier.runner.errors import ModelLoadError, SetupFailed
from pier.store import Row, StoreUnavailable

log = logging.getLogger(__name__)
router = APIRouter()

NDJSON = "application/x-ndjson"
ARCHIVE_TYPES = ("application/gzip", "application/x-gzip", "application/octet-stream")
STALE_SECONDS = 86400.0  # an upload folder this old belongs to no push that still runs
KEEPALIVE = 15.0  # seconds of build silence before an empty line goes to a streaming client
_builds: set[asyncio.Task[Any]] = set()  # running builds, kept while their client is gone
_locks: dict[str, asyncio.Lock] = {}  # one push at a time per model name, in this process


async def _check_owner(svc: Services, account: Row, owner: str, name: str) -> None:
    """Raise unless `account` may add a version to owner/name (which may not exist yet)."""
    if not NAME_RE.match(f"{owner}/{name}"):
        raise ApiError(
            422, f"{owner}/{name} is not a model name: use lowercase letters, digits, . _ -"
        )
    model = await svc.store.get_model(owner, name, account["id"])
    if model is not None:
        if model["account_id"] != account["id"]:
            raise ApiError(
                403, f"Model {owner}/{name} belongs to another account; push to your own models."
            )
        return
    taken = await svc.store.get_model(owner, name) is not None
    if not taken and owner != account["username"] and is_admin(account):
        # The admin may start a namespace of its own (like pier/…), not another account's.
        holder = await svc.store.get_account_by_username(owner)
        taken = holder is not None and holder["id"] != account["id"]
    elif owner != account["username"]:
        taken = True
    if taken:
        raise ApiError(
            404,
            f"Model {owner}/{name} was not found. You can create models under your own name, "
            f"like {account['username']}/{name}.",
        )


async def _receive(request: Request, into: Path, limit: int) -> int:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ARCHIVE_TYPES:
        raise ApiError(415, "Send the model directory as a tar.gz body (application/gzip).")
    too_large = ApiError(
        413, f"Model archives must be at most {limit} bytes (setting max_push_bytes)."
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    size = 0
    with into.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            out.write(chunk)
    if not size:
        raise ApiError(422, "The body is empty; send the model directory as a tar.gz.")
    return size


def _failure(exc: BaseException) -> ApiError:
    """What a failed registration tells the client."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UploadError):
        return ApiError(exc.status, exc.message)
    if isinstance(exc, BlobsUnavailable):
        return ApiError(503, "The file store is unreachable. Try again shortly.")
    if isinstance(exc, StoreUnavailable):
        return ApiError(503, str(exc))
    logs = getattr(exc, "logs", None)
    if isinstance(exc, ModelDirError | ModelLoadError | SetupFailed):
        error = ApiError(422, str(exc), "Invalid model")
    elif isinstance(logs, str):  # an environment build that failed carries its log
        error = ApiError(422, str(exc), "Build failed")
    else:
        log.error("pushing a model failed", exc_info=exc)
        return ApiError(500, "Pier hit an unexpected error. The server log has the details.")
    if isinstance(logs, str) and logs:
        error.extra["logs"] = logs
    return error


async def _build(
    svc: Services, account: Row, archive: Path, workdir: Path, ref: str, say: Callable[[str], None]
) -> tuple[Row, bool]:
    """Unpack and register; the temporary files are removed whatever happens."""
    try:
        limit = svc.settings.max_push_unpacked_bytes
        source, files, size = await asyncio.to_thread(unpack_model, archive, workdir / "dir", limit)
        say(f"Unpacked {files} files ({size} bytes)")
        lock = _locks.setdefault(ref, asyncio.Lock())
        async with lock:
            say(f"Registering {ref}")
            _, version, created = await register(
                svc.store,
                svc.files.blobs,
                svc.settings.data_dir,
                account,
                source,
                ref,
                envs=EnvConfig.from_settings(svc.settings),
                on_log=say,
            )
        say(f"Version {version['id']} " + ("created" if created else "already existed"))
        return version, created
    finally:
        await asyncio.to_thread(remove, workdir)


def _sweep(uploads: Path) -> None:
    """Remove what pushes cut off by a server that stopped left behind (a day later)."""
    for stale in uploads.glob("push-*"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_SECONDS:
                remove(stale)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


@router.post(
    "/v1/models/{owner}/{name}/versions", status_code=201, openapi_extra=openapi.PUSH_VERSION
)
async def push_version(
    owner: str, name: str, request: Request, svc: ServicesDep, account: AccountDep
) -> Response:
    await _check_owner(svc, account, owner, name)
    uploads = svc.settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_sweep, uploads)
    workdir = Path(tempfile.mkdtemp(dir=uploads, prefix="push-"))
    archive = workdir / "model.tar.gz"
    try:
        size = await _receive(request, archive, svc.settings.max_push_bytes)
    except BaseException as exc:
        remove(workdir)
        if isinstance(exc, ClientDisconnect):
            return Response(status_code=400)
        raise
    lines: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def say(text: str) -> None:
        """Queue log lines, from the event loop or from a thread (in order either way)."""
        for line in text.splitlines() or [""]:
            event = json.dumps({"log": line})
            if _on_loop(loop):
                lines.put_nowait(event)
            else:
                loop.call_soon_threadsafe(lines.put_nowait, event)

    say(f"Received {size} bytes")
    # A task of its own: a client that goes away does not stop a build half way.
    task = asyncio.create_task(_build(svc, account, archive, workdir, f"{owner}/{name}", say))
    _builds.add(task)
    task.add_done_callback(_builds.discard)
    if NDJSON not in request.headers.get("accept", ""):
        try:
            version, created = await asyncio.shield(task)
        except Exception as exc:
            raise _failure(exc) from exc
        return json_response(serialize.version(version), 201 if created else 200)
    return StreamingResponse(
        _follow(task, lines), media_type=NDJSON, headers={"Cache-Control": "no-store"}
    )


async def _follow(
    task: asyncio.Task[tuple[Row, bool]], lines: asyncio.Queue[str]
) -> AsyncIterator[str]:
    """The build's log lines as they come, then its outcome."""
    while not task.done() or not lines.empty():
        getter = asyncio.ensure_future(lines.get())
        done, _ = await asyncio.wait(
            {getter, task}, timeout=KEEPALIVE, return_when="FIRST_COMPLETED"
        )
        if getter in done:
            yield getter.result() + "\n"
        else:
            getter.cancel()
            if not done:
                yield "\n"
    try:
        version, created = task.result()
    except Exception as exc:
        error = _failure(exc)
        body = {"title": error.title or TITLES.get(error.status), "detail": error.detail}
        yield json.dumps({"error": {**body, "status": error.status, **error.extra}}) + "\n"
        return
    yield json.dumps({"version": serialize.version(version), "created": created}) + "\n"
