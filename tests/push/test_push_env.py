"""`pier push` of a model that needs its own environment: the build's log reaches the CLI."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.conftest import Server
from tests.envs.conftest import shared_uv_cache, write_model
from tests.push.helpers import client_env, pier
from tests.push.test_push import official_client

__all__ = ["shared_uv_cache"]


def test_push_builds_the_environment_and_shows_its_log(server: Server, tmp_path: Path) -> None:
    model = write_model(tmp_path / "humanized", {"python_packages": ["humanize==4.9.0"]})
    env = client_env(tmp_path, server.url, server.token)
    pushed = pier("push", str(model), "admin/humanized", env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "humanize==4.9.0" in pushed.stderr  # uv's resolution, streamed from the server
    with official_client(server, server.token) as client:
        assert client.run(pushed.stdout.strip(), input={}).startswith("4.9.0 ")

    again = pier("push", str(model), "admin/humanized", env=env)
    assert again.stdout == pushed.stdout
    assert "already pushed; nothing was rebuilt" in again.stderr
    assert "humanize==4.9.0" not in again.stderr  # nothing was resolved or built


def test_a_failed_build_fails_the_push_with_its_log(server: Server, tmp_path: Path) -> None:
    build = {"python_packages": ["humanize==4.9.0"], "run": ["echo the-last-words >&2; false"]}
    model = write_model(tmp_path / "failing", build)
    pushed = pier(
        "push", str(model), "admin/failing", env=client_env(tmp_path, server.url, server.token)
    )
    assert pushed.returncode == 1
    assert "422" in pushed.stderr and "the-last-words" in pushed.stderr.split("Error:", 1)[1]
    missing = httpx.get(
        f"{server.url}/v1/models/admin/failing",
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert missing.status_code == 404  # nothing was registered
