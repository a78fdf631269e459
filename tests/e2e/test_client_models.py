"""The official `replicate` Python client, unmodified, making models, reading collections and
hardware on a real `pier serve` (SQLite, and PostgreSQL); `pier push` to a model made this way."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import replicate
from replicate.exceptions import ReplicateError

from tests.conftest import model_dir
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    extra = ["--no-builtin-models"]
    if request.param == "postgresql":
        extra += ["--database", request.getfixturevalue("postgres_database").new_schema()]
    started = Server(tmp_path_factory.mktemp("models") / "data").start(*extra)
    yield started
    started.stop()


@pytest.fixture
def client(server: Server) -> Iterator[replicate.Client]:
    made = replicate.Client(api_token=server.token, base_url=server.url)
    yield made
    made._client.close()


def test_create_a_model_push_to_it_and_find_it(
    server: Server, client: replicate.Client, tmp_path: Path
) -> None:
    model = client.models.create(
        "admin",
        "greeter",
        visibility="public",
        hardware="cpu",
        description="Says hello.",
        github_url="https://github.com/admin/greeter",
    )
    assert (model.owner, model.name, model.visibility) == ("admin", "greeter", "public")
    assert model.description == "Says hello." and model.latest_version is None
    assert model.github_url == "https://github.com/admin/greeter" and model.run_count == 0
    with pytest.raises(ReplicateError) as taken:
        client.models.create("admin", "greeter", visibility="public", hardware="cpu")
    assert "status: 409" in str(taken.value)
    with pytest.raises(ReplicateError) as invalid:
        client.models.create("admin", "Not OK", visibility="public", hardware="cpu")
    assert "status: 422" in str(invalid.value) and "name" in str(invalid.value)

    # what the playground tells to do after making a model
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
    env |= {"PIER_URL": server.url, "PIER_TOKEN": server.token}
    pushed = subprocess.run(
        [sys.executable, "-m", "pier.cli.main", "push"]
        + [str(model_dir(tmp_path, "hello_world.py")), "admin/greeter"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert pushed.returncode == 0, pushed.stderr
    version_id = pushed.stdout.strip().split(":")[1]

    again = client.models.get("admin/greeter")
    assert again.latest_version is not None and again.latest_version.id == version_id
    assert again.description == "Says hello."
    assert [v.id for v in again.versions.list()] == [version_id]
    assert "admin/greeter" in {f"{m.owner}/{m.name}" for m in client.models.list().results}

    listed = client.collections.list()
    assert [c.slug for c in listed.results] == ["text"]
    text = client.collections.get("text")
    assert text.name == "Text models" and text.description
    assert [f"{m.owner}/{m.name}" for m in text] == ["admin/greeter"]
    assert text.models is not None and text.models[0].latest_version is not None


def test_hardware_and_missing_collections(client: replicate.Client) -> None:
    hardware = client.hardware.list()
    assert [(h.sku, h.name) for h in hardware][:2] == [("cpu", "CPU"), ("gpu", "GPU")]
    with pytest.raises(ReplicateError) as missing:
        client.collections.get("no-such-collection")
    assert "status: 404" in str(missing.value)
