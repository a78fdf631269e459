"""`pier push DIR owner/name`: upload a model directory to a Pier server as a new version."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from pier.blobs.archive import write_archive
from pier.cli.buildlog import BuildLog
from pier.cli.client_commands import Api, TokenOpt, UrlOpt, fail

CHUNK = 256 * 1024
# The server sends a line at least every 15 s while it builds.
TIMEOUT = httpx.Timeout(30.0, read=120.0, write=120.0)


def push(
    directory: Annotated[Path, typer.Argument(help="A model directory (cog.yaml + predict.py).")],
    ref: Annotated[str, typer.Argument(help="owner/name of the model to push to.")],
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Upload a model directory to a Pier server as a new version of owner/name (like `cog
    push`): shows the upload and the build, prints owner/name:version."""
    if ref.count("/") != 1 or ":" in ref:
        raise fail(f"{ref!r} is not owner/name")
    if not (directory / "cog.yaml").is_file():
        raise fail(f"{directory} has no cog.yaml")
    api = Api(url, token)
    with tempfile.TemporaryDirectory(prefix="pier-push-") as scratch:
        archive = Path(scratch) / "model.tar.gz"
        try:
            write_archive(directory.resolve(), archive)
        except OSError as exc:
            raise fail(f"cannot pack {directory}: {exc}") from exc
        version, created = _upload(api, archive, ref)
    state = "pushed" if created else "already pushed; nothing was rebuilt"
    typer.echo(f"{ref}:{version['id']}")
    typer.secho(f"{ref} {state}", err=True, fg="green")


def _chunks(archive: Path, progress: Progress) -> Iterator[bytes]:
    task = progress.add_task("Uploading", total=archive.stat().st_size)
    with archive.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.advance(task, len(chunk))
            yield chunk


def _upload(api: Api, archive: Path, ref: str) -> tuple[dict[str, Any], bool]:
    console = Console(stderr=True)
    size = archive.stat().st_size
    headers = {
        "Content-Type": "application/gzip",
        "Content-Length": str(size),
        "Accept": "application/x-ndjson",
    }
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    if not console.is_terminal:
        console.print(f"Uploading {size} bytes to {api.url}")
    try:
        with Progress(
            *columns, console=console, transient=True, disable=not console.is_terminal
        ) as progress:
            request = api.http.build_request(
                "POST",
                f"/v1/models/{ref}/versions",
                content=_chunks(archive, progress),
                headers=headers,
                timeout=TIMEOUT,
            )
            response = api.http.send(request, stream=True)
        try:
            return _follow(api, response)
        finally:
            response.close()
    except httpx.HTTPError as exc:
        raise fail(api.unreachable(exc)) from exc


def _follow(api: Api, response: httpx.Response) -> tuple[dict[str, Any], bool]:
    if response.status_code >= 400:
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text}
        if response.status_code == 401:
            raise fail(api.unauthorized(str(body.get("detail") or "").strip()))
        raise _error(response.status_code, body)
    with BuildLog().showing("Building the version on the server") as show:
        for line in response.iter_lines():
            if not line.strip():
                continue  # keeps the connection alive while the server builds
            event = json.loads(line)
            if "log" in event:
                show(event["log"])
            elif "error" in event:
                raise _error(int(event["error"].get("status", 0)), event["error"])
            elif "version" in event:
                return event["version"], bool(event.get("created"))
    raise fail("the server ended the push without an answer; push again")


def _error(status: int, body: dict[str, Any]) -> typer.Exit:
    logs = str(body.get("logs") or "").rstrip()
    if logs:
        typer.echo("\n".join(logs.splitlines()[-30:]), err=True)
    detail = str(body.get("detail") or body.get("title") or "the push failed").strip()
    return fail(f"{status}: {detail}")
