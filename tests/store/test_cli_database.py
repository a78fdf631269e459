"""The `pier` commands that write data use the same `database` setting as the server: with
PIER_DATABASE (or --database) set, they write into that PostgreSQL, not a local SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pier.store import Store
from tests.conftest import model_dir
from tests.postgres import ThrowAwayDatabase


def pier_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIER_ADMIN_TOKEN": "", **(env or {})},
    )


async def test_token_create_and_models_add_write_into_the_database_setting(
    tmp_path: Path, postgres_database: ThrowAwayDatabase
) -> None:
    url = postgres_database.new_schema()
    data_dir = str(tmp_path / "data")
    made = pier_command(
        "token", "create", "--name", "ci", "--database", url, "--data-dir", data_dir
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    directory = model_dir(tmp_path, "hello_world.py")
    with_env = {"PIER_DATABASE": url, "PIER_DATA_DIR": data_dir}
    added = pier_command("models", "add", str(directory), "--name", "t/hello", env=with_env)
    assert added.returncode == 0, added.stderr
    assert "t/hello:" in added.stdout
    assert not (tmp_path / "data" / "pier.db").exists()  # nothing went to SQLite

    store = await Store.open(url)
    try:
        assert await store.account_for_token(token) is not None
        model = await store.get_model("t", "hello")
        assert model is not None and model["latest_version_id"]
    finally:
        await store.close()


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    nobody = "postgresql://postgres@127.0.0.1:1/pier"  # nothing listens on port 1
    made = pier_command("token", "create", "--database", nobody, "--data-dir", str(tmp_path))
    assert made.returncode == 1
    assert made.stderr.startswith("Error: The database is unreachable; try again shortly.")
    assert "Traceback" not in made.stderr
    wrong = pier_command("token", "create", "--database", "mysql://x@y/z")
    assert wrong.returncode == 1 and "sqlite:///" in wrong.stderr, wrong.stderr
