"""`pier prices` and `pier credit` on the server's machine, against its database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from pier.cli.main import app
from pier.store import Store


def pier(data_dir: Path, *args: str) -> Result:
    """The `pier` command, run in this process (starting a Python per call costs seconds)."""
    return CliRunner().invoke(app, list(args), env={"PIER_DATA_DIR": str(data_dir)})


async def _server_database(data: Path) -> None:
    """The database `pier serve` leaves in its data dir, with an account "bob"."""
    data.mkdir()
    store = await Store.open(f"sqlite:///{data / 'pier.db'}")
    await store.create_account("bob")
    await store.close()


def test_prices_and_credit_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    nowhere = pier(data, "prices", "list")  # before any server made a database there
    assert nowhere.exit_code == 1 and "no Pier database" in nowhere.stderr
    assert not (data / "pier.db").exists()
    asyncio.run(_server_database(data))
    assert "No prices are set" in pier(data, "prices", "list").stdout
    done = pier(data, "prices", "set", "--hardware", "cpu", "--per-second", "0.0001")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "hardware cpu: 0.0001 USD per second"
    added = pier(data, "credit", "add", "bob", "12.5", "--memo", "welcome")
    assert added.exit_code == 0, added.output
    summary = json.loads(added.stdout)
    assert (summary["balance_usd"], summary["available_usd"]) == ("12.50", "12.50")
    again = json.loads(pier(data, "credit", "add", "bob", "0.000001").stdout)
    assert again["balance_usd"] == "12.500001"
    assert json.loads(pier(data, "credit", "show", "bob").stdout)["balance_usd"] == "12.500001"

    for bad in (
        ["credit", "add", "nobody", "1"],
        ["credit", "add", "bob", "0"],
        ["credit", "add", "bob", "1.0000001"],
        ["prices", "set", "acme/none", "--per-run", "1"],
        ["prices", "set", "--hardware", "cpu", "--per-run", "1"],
    ):
        refused = pier(data, *bad)
        assert refused.exit_code != 0, bad
        assert "Error" in refused.stderr, (bad, refused.stderr)
    removed = pier(data, "prices", "remove", "--hardware", "cpu")
    assert removed.exit_code == 0 and "No prices are set" in removed.stdout
