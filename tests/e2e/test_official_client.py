"""The official `replicate` Python client, unmodified, against a real `pier serve`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError

from tests.conftest import BUILTIN, model_dir
from tests.e2e.conftest import Server, Worker, serve_for
from tests.queue.conftest import redis_url_or_skip


def add(server: Server, directory: Path, name: str) -> str:
    env = dict(os.environ, **server.env)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pier.cli.main",
            "models",
            "add",
            str(directory),
            "--name",
            name,
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout.strip().split(":")[1].split()[0]


@pytest.fixture(scope="module", params=["embedded", "cluster"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[replicate.Client]:
    """Embedded: `pier serve` alone. Cluster: an API process that runs no models, on
    PostgreSQL, Redis and S3, with a `pier worker` beside it running every prediction."""
    tmp = tmp_path_factory.mktemp("client")
    server, cleanup = serve_for(request, tmp / "data", "pier_e2e", redis_url_or_skip)
    try:
        for slug in ("echo", "stream-words", "slow", "image-filter"):
            add(server, BUILTIN / slug, f"pier/{slug}")
        add(server, model_dir(tmp, "exc_in_predict.py"), "test/fails")
        if request.param == "cluster":
            worker = Worker(server, tmp / "worker", "--slots", "2")
            cleanup.append(worker.stop)
        client = replicate.Client(api_token=server.token, base_url=server.url)
        client.pier_server = server  # type: ignore[attr-defined]
        yield client
        client._client.close()
    finally:
        for step in reversed(cleanup):
            step()
        server.stop()


def test_run_by_model_and_by_version(client: replicate.Client) -> None:
    assert client.run("pier/echo", input={"text": "hello"}) == "You said: hello"
    model = client.models.get("pier/echo")
    assert model.latest_version is not None
    ref = f"pier/echo:{model.latest_version.id}"
    assert client.run(ref, input={"text": "v", "uppercase": True}) == "You said: V"


def test_iterator_output_streams_as_a_generator(client: replicate.Client) -> None:
    version = client.models.get("pier/stream-words").latest_version
    assert version is not None
    output = client.run(f"pier/stream-words:{version.id}", input={"text": "one two three"})
    assert list(output) == ["one ", "two ", "three"]
    # by model name the output comes back whole
    assert client.run("pier/stream-words", input={"text": "a b"}) == ["a ", "b"]


def test_long_prediction_falls_back_to_polling(client: replicate.Client) -> None:
    output = client.run("pier/slow", input={"steps": 12, "delay": 0.2}, wait=1)
    assert output == "Finished 12 steps"


def test_file_input_and_output(client: replicate.Client, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 255)).save(buffer, "PNG")
    buffer.seek(0)
    output = client.run("pier/image-filter", input={"image": buffer, "filter": "invert"})
    url = str(output)
    assert url.startswith("http://")  # http URLs come back as plain strings in the client
    image = httpx.get(url)  # no token needed
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).getpixel((1, 1)) == (255, 255, 0)


def test_model_error_and_invalid_input(client: replicate.Client) -> None:
    with pytest.raises(ModelError) as failed:
        client.run("test/fails", input={})
    assert failed.value.prediction.status == "failed"
    assert failed.value.prediction.error
    with pytest.raises(ReplicateError) as invalid:
        client.run("pier/echo", input={"repeat": 50})
    assert "text is required" in str(invalid.value)
    assert "status: 422" in str(invalid.value)


def test_predictions_create_get_list_cancel(client: replicate.Client) -> None:
    model = client.models.get("pier/slow")
    assert model.latest_version is not None
    prediction = client.predictions.create(
        version=model.latest_version.id, input={"steps": 500, "delay": 0.05}
    )
    assert prediction.status in ("starting", "processing")  # a warm model starts it at once
    again = client.predictions.get(prediction.id)
    assert again.id == prediction.id
    listed = client.predictions.list()
    assert prediction.id in [p.id for p in listed.results]
    canceled = client.predictions.cancel(prediction.id)
    assert canceled.status == "canceled"
    done = client.models.predictions.create(model="pier/echo", input={"text": "m"}, wait=True)
    assert done.status == "succeeded" and done.output == "You said: m"


def test_models_and_versions(client: replicate.Client) -> None:
    names = {f"{m.owner}/{m.name}" for m in client.models.list().results}
    assert {"pier/echo", "pier/slow", "test/fails"} <= names
    model = client.models.get("pier/echo")
    versions = model.versions.list()
    assert len(versions) == 1
    version = model.versions.get(versions[0].id)
    assert version.openapi_schema["components"]["schemas"]["Input"]["properties"]["text"]


def test_bad_token_is_rejected(client: replicate.Client) -> None:
    server: Server = client.pier_server  # type: ignore[attr-defined]
    bad = replicate.Client(api_token="wrong", base_url=server.url)
    with pytest.raises(ReplicateError) as error:
        bad.run("pier/echo", input={"text": "x"})
    bad._client.close()
    assert "status: 401" in str(error.value)
