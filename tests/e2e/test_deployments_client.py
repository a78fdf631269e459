"""Deployments through the official `replicate` Python client, unmodified, against a real
`pier serve` (alone, and with a `pier worker` on Redis): create, get, list, update (new
releases), predictions, delete, bad input, and a model process kept loaded by min_instances with
no prediction made."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from tests.conftest import BUILTIN, model_dir
from tests.e2e.conftest import Server, Worker, serve_for
from tests.e2e.test_official_client import add
from tests.queue.conftest import redis_url_or_skip


@pytest.fixture(scope="module", params=["embedded", "cluster"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, replicate.Client]]:
    """Embedded: `pier serve` alone. Cluster: an API process that runs no models, on
    PostgreSQL, Redis and S3, with a `pier worker` beside it: the floor is kept by the worker."""
    tmp = tmp_path_factory.mktemp("deployments")
    server, cleanup = serve_for(request, tmp / "data", "pier_e2e_deploy", redis_url_or_skip)
    try:
        add(server, BUILTIN / "echo", "pier/echo")
        add(server, model_dir(tmp, "hello_world.py"), "pier/echo")  # a second version
        if request.param == "cluster":
            worker = Worker(server, tmp / "worker", "--slots", "2")
            cleanup.append(worker.stop)
        client = replicate.Client(api_token=server.token, base_url=server.url)
        yield server, client
        client._client.close()
    finally:
        for step in reversed(cleanup):
            step()
        server.stop()


def loaded_processes(server: Server, version: str) -> int:
    """Model processes of `version` up, as the admin's cluster view shows them."""
    cluster = httpx.get(
        f"{server.url}/v1/admin/cluster", headers={"Authorization": f"Bearer {server.token}"}
    ).json()
    return sum(
        item["processes"]
        for process in cluster["processes"]
        for item in process["loaded"]
        if item["version"] == version
    )


def test_deployments_with_the_official_client(served: tuple[Server, replicate.Client]) -> None:
    server, client = served
    versions = [v.id for v in client.models.get("pier/echo").versions.list()]
    newest, first = versions[0], versions[-1]
    made = client.deployments.create(
        name="admin/echoer",  # the client strips the owner
        model="pier/echo",
        version=first,
        hardware="cpu",
        min_instances=1,
        max_instances=1,
    )
    assert (made.owner, made.name, made.id) == ("admin", "echoer", "admin/echoer")
    release = made.current_release
    assert release is not None and release.number == 1 and release.version == first
    assert release.model == "pier/echo" and release.created_by is not None
    assert release.configuration.min_instances == 1

    # min_instances=1: a process of the version is loaded though nothing was run
    deadline = time.monotonic() + 60
    while loaded_processes(server, first) < 1:
        assert time.monotonic() < deadline, "no process was kept loaded"
        time.sleep(0.2)

    got = client.deployments.get("admin/echoer")
    assert got.current_release is not None and got.current_release.number == 1
    assert [d.id for d in client.deployments.list().results] == ["admin/echoer"]

    prediction = got.predictions.create(input={"text": "hi"})
    prediction.wait()
    assert prediction.status == "succeeded" and prediction.output == "You said: hi"
    assert prediction.version == first
    again = client.predictions.create(deployment="admin/echoer", input={"text": "yo"})
    again.wait()
    assert again.output == "You said: yo"

    updated = client.deployments.update(
        "admin", "echoer", version=newest, min_instances=0, max_instances=2
    )
    release = updated.current_release
    assert release is not None and release.number == 2 and release.version == newest
    assert (release.configuration.min_instances, release.configuration.max_instances) == (0, 2)
    assert client.deployments.update("admin", "echoer", hardware="cpu").current_release.number == 3
    run = client.deployments.get("admin/echoer").predictions.create(input={"text": "you"})
    run.wait()
    assert run.output == "hello you"

    with pytest.raises(ReplicateError) as bad:
        client.deployments.update("admin", "echoer", min_instances=5)
    assert bad.value.status == 422 and "min_instances" in str(bad.value)
    with pytest.raises(ReplicateError) as bad:
        client.deployments.create(
            name="other",
            model="pier/echo",
            version="0" * 64,
            hardware="cpu",
            min_instances=0,
            max_instances=1,
        )
    assert bad.value.status == 422 and "not a version of pier/echo" in str(bad.value)

    assert client.deployments.delete("admin", "echoer") is True
    with pytest.raises(ReplicateError) as gone:
        client.deployments.get("admin/echoer")
    assert gone.value.status == 404
