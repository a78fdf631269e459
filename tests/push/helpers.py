"""Running `pier` as a user would, and making accounts on a test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import Server


def pier(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env or dict(os.environ),
    )


def account_token(server: Server, username: str) -> str:
    made = pier("token", "create", "--username", username, "--data-dir", str(server.data_dir))
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def client_env(tmp: Path, url: str, token: str | None) -> dict[str, str]:
    """The environment of a user's shell: PIER_URL and PIER_TOKEN, no saved admin token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
    env.update(PIER_URL=url, HOME=str(tmp), PIER_DATA_DIR=str(tmp / "no-pier-here"))
    if token is not None:
        env["PIER_TOKEN"] = token
    return env
