"""Commands that work on a server's database directly, on the server's machine (accounts,
tokens, priorities, prices, credit): one way to open the store, run the work, and say what
went wrong in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

from pier.bootstrap import ensure_admin
from pier.settings import Settings
from pier.store import Store, StoreUnavailable

T = TypeVar("T")


class Refused(Exception):
    """What the command cannot do, in words for the operator."""


def run_on_store(
    data_dir: Path | None,
    database: str | None,
    work: Callable[[Store], Awaitable[T]],
    *,
    with_admin: bool = False,
) -> T:
    """Open the store `pier serve` keeps (DATA_DIR's SQLite file, or `database`) and run
    `work` on it. Refuses to make a new database where no server keeps one: a mistyped
    --data-dir would otherwise make accounts and tokens nobody's server knows."""
    settings = Settings.load({"data_dir": data_dir, "database": database})
    if not settings.database and not (settings.data_dir / "pier.db").exists():
        typer.secho(
            f"Error: there is no Pier database in {settings.data_dir}. Run this where `pier "
            "serve` keeps its data (--data-dir, or PIER_DATA_DIR), or name its --database.",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)

    async def go() -> T:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # the admin's token file goes here
        store = await Store.open(settings.database_url)
        try:
            if with_admin:
                await ensure_admin(store, settings)
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except (StoreUnavailable, ValueError, Refused) as exc:
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
