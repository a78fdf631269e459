"""`pier serve --database postgresql://…` for real: a model registered by `pier models add` with
PIER_DATABASE set is served at once by the running server, and the official client runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import replicate

from tests.conftest import BUILTIN
from tests.e2e.conftest import Server
from tests.postgres import ThrowAwayDatabase

pytestmark = pytest.mark.e2e


def test_serve_and_models_add_share_one_postgresql(
    server_factory: type[Server], tmp_path: Path, postgres_database: ThrowAwayDatabase
) -> None:
    url = postgres_database.new_schema()
    server = server_factory(tmp_path / "data").start("--no-builtin-models", "--database", url)
    added = subprocess.run(
        [sys.executable, "-m", "pier.cli.main", "models", "add", str(BUILTIN / "echo")]
        + ["--name", "pier/echo", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIER_DATABASE": url},
    )
    assert added.returncode == 0, added.stderr
    assert not (server.data_dir / "pier.db").exists()  # everything is in PostgreSQL

    client = replicate.Client(api_token=server.token, base_url=server.url)
    try:
        assert client.run("pier/echo", input={"text": "a cat"}) == "You said: a cat"
        listed = client.predictions.list()
    finally:
        client._client.close()
    assert [p.status for p in listed.results] == ["succeeded"]


def test_serve_with_a_database_that_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    started = subprocess.run(
        [sys.executable, "-m", "pier.cli.main", "serve", "--port", "0"]
        + ["--data-dir", str(tmp_path), "--database", "postgresql://postgres@127.0.0.1:1/pier"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 1
    assert started.stderr.startswith("Error: The database is unreachable; try again shortly.")
    assert "Traceback" not in started.stderr
