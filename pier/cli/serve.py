"""`pier serve` and `pier models add`, a local admin command."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from pier.api.app import create_app
from pier.api.connections import protocol_for, raise_fd_limit
from pier.blobs import open_blobs
from pier.bootstrap import ADMIN, BootInfo, ensure_admin, token_file
from pier.cli.buildlog import BuildLog
from pier.envs import EnvConfig
from pier.registry import ModelDirError, register
from pier.settings import Settings
from pier.store import Store, StoreUnavailable, migrate
from pier.store.engine import engine_url

FILES_HELP = "File store: empty (DATA_DIR/files), a directory or s3://bucket/prefix [PIER_FILES]."
DATABASE_HELP = (
    "Database: empty (SQLite in DATA_DIR), sqlite:///… or postgresql://… [PIER_DATABASE]."
)

VISIBILITY_HELP = (
    "--public: every account can see and run the model; --private: only its owner. "
    "Without either, a new model takes pier.yaml's visibility (private by default) and an "
    "existing one keeps its own."
)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [PIER_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port; 0 picks a free one [PIER_PORT].")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where Pier keeps everything [PIER_DATA_DIR].")
    ] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
    queue: Annotated[
        str | None, typer.Option(help="Queue URL: empty (in process) or redis://… [PIER_QUEUE].")
    ] = None,
    files: Annotated[str | None, typer.Option(help=FILES_HELP)] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Model processes per version; 0 runs no models [PIER_WORKERS]."),
    ] = None,
    builtin_models: Annotated[
        bool | None,
        typer.Option("--builtin-models/--no-builtin-models", help="Register built-in models."),
    ] = None,
) -> None:
    """Start the Pier server (API, playground and model runners)."""
    settings = Settings.load(
        {
            "host": host,
            "port": port,
            "data_dir": data_dir,
            "database": database,
            "queue": queue,
            "files": files,
            "workers": workers,
            "builtin_models": builtin_models,
        }
    )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        open_blobs(settings.files, settings.data_dir)
        engine_url(settings.database_url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(settings.database_url)  # here, so a database that is down is one line
    except StoreUnavailable as exc:
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    for name in ("max_connections", "header_timeout", "keepalive_timeout"):
        if getattr(settings, name) <= 0:
            raise typer.BadParameter(f"{name} must be more than 0, not {getattr(settings, name)}")
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on {settings.host}:{settings.port}: {exc}"
        ) from exc
    sock.listen(2048)  # connections made once the address is printed wait to be accepted
    settings = settings.replace(port=sock.getsockname()[1])

    def announce(info: BootInfo, names: list[str]) -> None:
        url = settings.base_url
        typer.echo(f"Pier is running at {url}", err=False)
        if info.new_token:
            typer.echo(f"Admin API token: {info.new_token}")
            typer.echo(f"  (saved in {token_file(settings.data_dir)}; `pier` commands use it)")
        typer.echo(f"Sign in to the playground: {url}/login?code={info.login_code}")
        if names:
            typer.echo("Models: " + ", ".join(names))
        typer.echo("", nl=True)

    try:
        app = create_app(settings, on_ready=announce)
    except ValueError as exc:  # a setting that cannot work, such as a bad allow_signup rule
        raise typer.BadParameter(str(exc)) from exc
    config = uvicorn.Config(
        app,
        http=protocol_for(settings, open_files=raise_fd_limit()),
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=False,  # links come from settings.public_url, not forwarded headers
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[sock])


def models_add(
    directory: Annotated[Path, typer.Argument(help="A directory with cog.yaml and predict.py.")],
    name: Annotated[str, typer.Option("--name", help="owner/name of the model.")],
    data_dir: Annotated[Path | None, typer.Option(help="[PIER_DATA_DIR]")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
    files: Annotated[str | None, typer.Option(help=FILES_HELP)] = None,
    public: Annotated[bool | None, typer.Option("--public/--private", help=VISIBILITY_HELP)] = None,
) -> None:
    """Register a model directory as a new version (a running server serves it at once)."""
    settings = Settings.load({"data_dir": data_dir, "database": database, "files": files})

    async def go() -> tuple[str, bool]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await Store.open(settings.database_url)
        try:
            await ensure_admin(store, settings)
            owner = name.split("/", 1)[0]
            account = await store.get_account_by_username(owner)
            account = account or await store.get_account_by_username(ADMIN)
            assert account is not None
            blobs = open_blobs(settings.files, settings.data_dir)
            with BuildLog().showing("Preparing the model's environment") as on_log:
                _, version, created = await register(
                    store,
                    blobs,
                    settings.data_dir,
                    account,
                    directory,
                    name,
                    envs=EnvConfig.from_settings(settings),
                    on_log=on_log,
                    visibility=None if public is None else ("public" if public else "private"),
                )
            return version["id"], created
        finally:
            await store.close()

    try:
        version_id, created = asyncio.run(go())
    except ModelDirError as exc:
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    except Exception as exc:  # ModelLoadError and friends carry a readable message
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    state = "added" if created else "already registered"
    typer.echo(f"{name}:{version_id} ({state})")
