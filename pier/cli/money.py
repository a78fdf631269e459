"""`pier prices set|list|remove` and `pier credit add|show`: money rules and top-ups, set on the
server's machine against its database (like `pier token create`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pier.billing import admin, ledger, reports
from pier.billing.money import BadAmount, parse_usd
from pier.cli.onstore import Refused, run_on_store
from pier.cli.serve import DATABASE_HELP
from pier.store import Store
from pier.util import utcnow

T = TypeVar("T")

prices_app = typer.Typer(
    help="Set what running models costs (run on the server's machine).", no_args_is_help=True
)
credit_app = typer.Typer(
    help="Prepaid credit of accounts (run on the server's machine).", no_args_is_help=True
)

DataDir = Annotated[Path | None, typer.Option(help="[PIER_DATA_DIR]")]
Database = Annotated[str | None, typer.Option(help=DATABASE_HELP)]


def _micros(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_usd(value, name=option)
    except BadAmount as exc:
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


async def _target(store: Store, model: str | None, hardware: str | None) -> tuple[str, str]:
    if (model is None) == (hardware is None):
        raise Refused("name a model (owner/name) or --hardware CLASS, not both")
    if hardware is not None:
        return "hardware", hardware
    assert model is not None
    owner, _, name = model.partition("/")
    row = await store.get_model(owner, name) if owner and name else None
    if row is None:
        raise Refused(f"there is no model {model}")
    return "model", str(row["id"])


@prices_app.command("set")
def prices_set(
    model: Annotated[
        str | None, typer.Argument(help="owner/name of a model (or --hardware).")
    ] = None,
    hardware: Annotated[
        str | None, typer.Option(help="A hardware class: cpu, or a GPU kind.")
    ] = None,
    per_second: Annotated[str | None, typer.Option(help="Dollars per second of running.")] = None,
    per_run: Annotated[str | None, typer.Option(help="Dollars per successful run.")] = None,
    per_unit: Annotated[str | None, typer.Option(help="Dollars per output unit.")] = None,
    unit: Annotated[str, typer.Option(help="What a unit is called (with --per-unit).")] = "output",
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """Price a hardware class per second, or one model per second, per run or per output unit
    (a model's own price replaces its hardware's). Takes effect within seconds."""
    given = {
        "per_second": _micros(per_second, "--per-second"),
        "per_run": _micros(per_run, "--per-run"),
        "per_unit": _micros(per_unit, "--per-unit"),
    }
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) != 1 or (hardware is not None and "per_second" not in chosen):
        typer.secho(
            "Error: give one of --per-second, --per-run or --per-unit (a hardware class is "
            "priced --per-second)",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)

    async def work(store: Store) -> list[dict[str, Any]]:
        scope, key = await _target(store, model, hardware)
        basis_unit = unit if "per_unit" in chosen else None
        await store.db.write(*admin.set_price(scope, key, utcnow(), unit=basis_unit, **chosen))
        return await store.db.read(reports.price_list)

    _print_prices(run_on_store(data_dir, database, work))


@prices_app.command("remove")
def prices_remove(
    model: Annotated[
        str | None, typer.Argument(help="owner/name of a model (or --hardware).")
    ] = None,
    hardware: Annotated[str | None, typer.Option(help="A hardware class.")] = None,
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """Remove a price (a model without one falls back to its hardware's; none: free)."""

    async def work(store: Store) -> list[dict[str, Any]]:
        scope, key = await _target(store, model, hardware)
        if not await store.db.write(admin.delete_price(scope, key)):
            raise Refused("there was no such price")
        return await store.db.read(reports.price_list)

    _print_prices(run_on_store(data_dir, database, work))


@prices_app.command("list")
def prices_list(data_dir: DataDir = None, database: Database = None) -> None:
    """Every price that is set."""

    async def work(store: Store) -> list[dict[str, Any]]:
        return await store.db.read(reports.price_list)

    _print_prices(run_on_store(data_dir, database, work))


def _print_prices(items: list[dict[str, Any]]) -> None:
    if not items:
        typer.echo("No prices are set: running every model is free.")
    for item in items:
        what = f"hardware {item['hardware']}" if "hardware" in item else f"model {item['model']}"
        for basis in ("per_second", "per_run", "per_unit"):
            if f"{basis}_usd" in item:
                per = basis.replace("_", " ")
                if basis == "per_unit":
                    per = f"per {item.get('unit', 'output')}"
                typer.echo(f"{what}: {item[f'{basis}_usd']} USD {per}")


@credit_app.command("add")
def credit_add(
    username: Annotated[str, typer.Argument(help="The account.")],
    amount: Annotated[str, typer.Argument(help="Dollars to add, such as 10 or 2.50.")],
    memo: Annotated[str | None, typer.Option(help="A note kept in the ledger.")] = None,
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """Top up an account's prepaid credit and print its balance."""
    micros = _micros(amount, "amount")
    if not micros:
        typer.secho("Error: the amount must be more than 0", fg="red", err=True)
        raise typer.Exit(2)

    async def work(store: Store) -> dict[str, Any]:
        account = await store.get_account_by_username(username)
        if account is None:
            raise Refused(f"there is no account {username}")
        now = utcnow()
        await store.db.transact(ledger.top_up(account["id"], micros, memo, now, store.db.dialect))
        row = await store.db.read(lambda conn: reports.balance_row(conn, account["id"]))
        return {"username": username, **reports.summary(row, now)}

    typer.echo(json.dumps(run_on_store(data_dir, database, work), indent=2))


@credit_app.command("show")
def credit_show(
    username: Annotated[str, typer.Argument(help="The account.")],
    data_dir: DataDir = None,
    database: Database = None,
) -> None:
    """An account's balance, holds and this month's spend."""

    async def work(store: Store) -> dict[str, Any]:
        account = await store.get_account_by_username(username)
        if account is None:
            raise Refused(f"there is no account {username}")
        row = await store.db.read(lambda conn: reports.balance_row(conn, account["id"]))
        return {"username": username, **reports.summary(row, utcnow())}

    typer.echo(json.dumps(run_on_store(data_dir, database, work), indent=2))
