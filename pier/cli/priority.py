"""`pier accounts priority` and `pier token priority`: queue priorities, set on the server's
machine against its database (like `pier token create`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, TypeVar

import typer

from pier.cli.onstore import run_on_store
from pier.cli.serve import DATABASE_HELP
from pier.queue import PRIORITIES
from pier.store import Row, Store

T = TypeVar("T")
LEVELS = ", ".join(PRIORITIES)
ACCOUNT_LEVEL = "account"  # a token's priority: its account's


def _check(level: str, *choices: str) -> None:
    if level not in (*PRIORITIES, *choices):
        allowed = ", ".join((*PRIORITIES, *choices))
        typer.secho(
            f"Error: the priority must be one of {allowed}, not {level!r}", fg="red", err=True
        )
        raise typer.Exit(2)


def account_priority(
    username: Annotated[str, typer.Argument(help="The account.")],
    level: Annotated[str, typer.Argument(help=f"Its queue priority: {LEVELS}.")],
    data_dir: Annotated[Path | None, typer.Option(help="[PIER_DATA_DIR]")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Give an account's predictions a queue priority: high ones are taken before normal ones,
    normal before low, each in the order they came."""
    _check(level)

    async def work(store: Store) -> Row | None:
        return await store.set_account_priority(username, level)

    if run_on_store(data_dir, database, work) is None:
        typer.secho(f"Error: there is no account {username!r}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"{username}: priority {level}")


def token_priority(
    token_id: Annotated[str, typer.Argument(help="The token's id.")],
    level: Annotated[
        str, typer.Argument(help=f"Its queue priority: {LEVELS}, or {ACCOUNT_LEVEL}.")
    ],
    data_dir: Annotated[Path | None, typer.Option(help="[PIER_DATA_DIR]")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Give one token's predictions their own queue priority instead of its account's
    (`account` goes back to the account's)."""
    _check(level, ACCOUNT_LEVEL)
    priority = None if level == ACCOUNT_LEVEL else level

    async def work(store: Store) -> Row | None:
        return await store.set_token_priority(token_id, priority)

    if run_on_store(data_dir, database, work) is None:
        typer.secho(f"Error: there is no token {token_id!r}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id}: priority {level}")
