"""`pier accounts create` and `pier tokens list|create|revoke`: run on the server's machine,
against its database (the same settings as `pier serve`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pier.bootstrap import ADMIN
from pier.cli.onstore import Refused, run_on_store
from pier.cli.serve import DATABASE_HELP
from pier.store import Row, Store
from pier.util import isoformat

T = TypeVar("T")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,38}$")
DataDir = Annotated[Path | None, typer.Option(help="[PIER_DATA_DIR]")]
Database = Annotated[str | None, typer.Option(help=DATABASE_HELP)]
Username = Annotated[str, typer.Option(help="The account.")]

accounts_app = typer.Typer(
    help="Manage accounts (run on the server's machine).", no_args_is_help=True
)
tokens_app = typer.Typer(
    help="Manage API tokens and sessions (run on the server's machine).", no_args_is_help=True
)


async def _account(store: Store, username: str) -> Row:
    account = await store.get_account_by_username(username)
    if account is None:
        raise Refused(f"there is no account {username!r}")
    return account


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Argument(help="Username: lowercase letters, digits, - and _.")],
    email: Annotated[str | None, typer.Option(help="Where alerts are mailed.")] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="May see the cluster and set prices.")
    ] = False,
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """Make an account and print its first API token (shown only once)."""
    if not USERNAME.match(name):
        raise typer.BadParameter(
            "use 1 to 39 lowercase letters, digits, '-' and '_', starting with a letter or digit"
        )
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise typer.BadParameter(f"{email!r} is not an e-mail address")

    async def work(store: Store) -> str:
        account = await store.new_account(name, email=email, is_admin=admin)
        if account is None:
            raise Refused(f"the account {name!r} already exists")
        return await store.create_token(account["id"], "first token (pier accounts create)")

    typer.echo(run_on_store(data_dir, database, work, with_admin=True))


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
    username: Annotated[str, typer.Option(help="Account to create it for (made if new).")] = ADMIN,
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """Create an API token and print it (stored hashed; shown only once)."""

    async def work(store: Store) -> str:
        account = await store.get_account_by_username(username)
        if account is None:
            account = await store.create_account(username)
        return await store.create_token(account["id"], name)

    typer.echo(run_on_store(data_dir, database, work, with_admin=True))


@tokens_app.command("list")
def tokens_list(
    username: Username = ADMIN, data_dir: DataDir = None, database: Database = None
) -> None:
    """An account's tokens and playground sessions that still work, newest first."""

    async def work(store: Store) -> list[Row]:
        return await store.list_tokens((await _account(store, username))["id"])

    rows = run_on_store(data_dir, database, work, with_admin=True)
    table = Table(title=f"Tokens of {username}", title_justify="left", title_style="bold")
    for column in ("id", "kind", "name", "created", "last used", "expires"):
        table.add_column(column, overflow="fold")
    for row in rows:
        times = (isoformat(row[k]) or "-" for k in ("created_at", "last_used_at", "expires_at"))
        table.add_row(row["id"], row["kind"], row["name"], *times)
    Console(width=200).print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `pier tokens list`).")],
    username: Username = ADMIN,
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """Revoke a token or end a session. Running servers stop taking it within 30 seconds."""

    async def work(store: Store) -> None:
        if not await store.revoke_token((await _account(store, username))["id"], token_id):
            raise Refused(f"{username} has no token {token_id!r} that still works")

    run_on_store(data_dir, database, work, with_admin=True)
    typer.echo(f"Revoked {token_id}.")
