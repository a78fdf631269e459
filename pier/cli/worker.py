"""`pier worker`: claims and runs jobs from a shared queue, on any machine that reaches the
store, the queue and the file store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from pier import stack
from pier.dispatch import Dispatcher
from pier.settings import Settings

DRAIN_CHECK = 0.05  # seconds between looks at the queue in burst mode


def worker(
    slots: Annotated[
        int, typer.Option(help="Model processes per version on a CPU machine.", min=1)
    ] = 1,
    gpus: Annotated[
        str | None,
        typer.Option(
            help="GPUs to use, e.g. 0,1: each model process gets free GPUs of its own (one, or "
            "pier.yaml's gpus: N)."
        ),
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="Serve only these models: owner/name,owner/name.")
    ] = None,
    burst: Annotated[
        bool, typer.Option("--burst", help="Run what waits in the queue, then exit.")
    ] = False,
    database: Annotated[str | None, typer.Option(help="Database URL [PIER_DATABASE].")] = None,
    queue: Annotated[str | None, typer.Option(help="Queue URL, redis://… [PIER_QUEUE].")] = None,
    files: Annotated[
        str | None, typer.Option(help="File store: a directory or s3://… [PIER_FILES].")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Local cache of versions and scratch [PIER_DATA_DIR].")
    ] = None,
) -> None:
    """Run predictions from the shared queue (set the same database, queue and files settings
    as the API, and public_url to the API's address so output links point there)."""
    settings = Settings.load(
        {"database": database, "queue": queue, "files": files, "data_dir": data_dir}
    )
    if not settings.queue:
        raise typer.BadParameter(
            "a worker needs the shared queue the API uses: --queue redis://HOST:PORT/DB "
            "(or PIER_QUEUE)",
            param_hint="--queue",
        )
    gpu_list = [g.strip() for g in gpus.split(",") if g.strip()] if gpus else None
    model_list = [m.strip() for m in models.split(",") if m.strip()] if models else None
    for name in model_list or []:
        if name.count("/") != 1:
            raise typer.BadParameter(f"{name!r} is not owner/name", param_hint="--models")
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    asyncio.run(_run(settings, slots, gpu_list, model_list, burst))


async def _run(
    settings: Settings,
    slots: int,
    gpus: list[str] | None,
    models: list[str] | None,
    burst: bool,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    options = {"kind": "worker", "slots": slots, "gpus": gpus, "models": models}
    async with stack.opened(settings, **options) as parts, stack.running(parts):
        dispatcher = parts.dispatcher
        serving = ", ".join(models) if models else "every model"
        where = f"GPUs {','.join(gpus)}" if gpus else f"{slots} slot(s) per version"
        typer.echo(f"Pier worker {dispatcher.process_id}: {serving}, {where}", err=True)
        if burst:
            await _drained(dispatcher, stop)
        else:
            await stop.wait()


async def _drained(dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    """Return once nothing this worker serves waits in the queue, nothing claimed is left
    unacknowledged (a delivery on its way to a slot here, or one a dead worker left, which a
    slot here reclaims), and nothing runs here."""
    queue = dispatcher.queue
    while not stop.is_set():
        await dispatcher.keeper.discover()
        idle = not dispatcher.live and all(pool.busy == 0 for pool in dispatcher.pools.values())
        if idle:
            left = [await queue.depth(k) + await queue.unfinished(k) for k in dispatcher.pools]
            if not any(left):
                return
        await asyncio.sleep(DRAIN_CHECK)
