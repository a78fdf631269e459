"""Errors that say what to do: a 401 names where a token comes from (in the API's problem+json,
through the official client, and in the CLI, with the URL it tried), and the CLI says how to
point it at another server when it cannot connect."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from tests.e2e.conftest import Server
from tests.e2e.test_cli import pier


def test_a_401_says_where_to_get_a_token(server_factory: type[Server], tmp_path: Path) -> None:
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    missing = httpx.get(f"{server.url}/v1/predictions")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    for text in ("account menu", "pier token create"):
        assert text in missing.json()["detail"]
    wrong = httpx.get(
        f"{server.url}/v1/predictions", headers={"Authorization": "Bearer r8_not-a-token"}
    )
    assert wrong.status_code == 401 and "pier token create" in wrong.json()["detail"]

    client = replicate.Client(api_token="r8_not-a-token", base_url=server.url)
    try:
        with pytest.raises(ReplicateError) as caught:
            client.predictions.list()
    finally:
        client._client.close()
    assert "status: 401" in str(caught.value) and "account menu" in str(caught.value)

    refused = pier("models", "list", "--url", server.url, "--token", "r8_wrong", check=False)
    assert refused.returncode == 1
    assert f"401 from {server.url} (from --url)" in refused.stderr
    assert "the token from --token" in refused.stderr
    assert "PIER_TOKEN" in refused.stderr and "pier token create" in refused.stderr


def test_the_cli_says_which_url_it_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIER_URL", "http://127.0.0.1:9")
    unreachable = pier("models", "list", check=False)
    assert unreachable.returncode == 1
    assert "cannot reach Pier at http://127.0.0.1:9 (from PIER_URL)" in unreachable.stderr
    assert "--url" in unreachable.stderr and "pier serve" in unreachable.stderr
