"""`pier push DIR owner/name` and POST /v1/models/{owner}/{name}/versions, against a real server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import replicate
from replicate.exceptions import ModelError

from pier.blobs.archive import write_archive
from tests.conftest import BUILTIN, model_dir
from tests.e2e.conftest import Server
from tests.push.helpers import account_token, client_env, pier


def echo_model(tmp: Path, public: bool = False) -> Path:
    """The built-in echo model, private unless `public` (its pier.yaml makes it public)."""
    target = tmp / ("public-echo" if public else "echo")
    shutil.copytree(BUILTIN / "echo", target)
    if not public:
        (target / "pier.yaml").unlink()
    return target


def gzip_of(directory: Path, tmp: Path) -> bytes:
    archive = tmp / f"{directory.name}.tar.gz"
    write_archive(directory, archive)
    return archive.read_bytes()


def post(server: Server, ref: str, body: bytes, token: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/models/{ref}/versions",
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/gzip",
            **headers,
        },
        timeout=120,
    )


def test_push_then_run_it_with_the_official_client(server: Server, tmp_path: Path) -> None:
    alice = account_token(server, "alice")
    model = echo_model(tmp_path)
    env = client_env(tmp_path, server.url, alice)

    first = pier("push", str(model), "alice/echo", env=env)
    assert first.returncode == 0, first.stderr
    ref = first.stdout.strip()
    owner_name, _, version = ref.partition(":")
    assert owner_name == "alice/echo" and len(version) == 64
    assert "Registering alice/echo" in first.stderr  # the build's log reached the client
    assert "alice/echo pushed" in first.stderr

    with official_client(server, alice) as client:
        assert client.run(ref, input={"text": "hi"}) == "You said: hi"

    again = pier("push", str(model), "alice/echo", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == ref
    assert "already pushed; nothing was rebuilt" in again.stderr

    # The same endpoint for CI systems, with a plain JSON answer: 200 for content it has...
    same = post(server, "alice/echo", gzip_of(model, tmp_path), alice)
    assert same.status_code == 200, same.text
    assert same.json()["id"] == version
    assert same.json()["openapi_schema"]["components"]["schemas"]["Input"]["required"] == ["text"]
    # ...and 201 for a new version, which becomes the model's latest.
    predict = model / "predict.py"
    predict.write_text(predict.read_text().replace("You said: ", "Echo: "))
    changed = post(server, "alice/echo", gzip_of(model, tmp_path), alice)
    assert changed.status_code == 201, changed.text
    assert changed.json()["id"] != version
    streamed = post(
        server, "alice/echo", gzip_of(model, tmp_path), alice, Accept="application/x-ndjson"
    )
    events = [json.loads(line) for line in streamed.text.splitlines() if line.strip()]
    assert events[-1] == {"version": changed.json(), "created": False}
    logs = [event["log"] for event in events[:-1]]
    assert logs[-1] == f"Version {changed.json()['id']} already existed"
    with official_client(server, alice) as client:
        assert client.run("alice/echo", input={"text": "hi"}) == "Echo: hi"
        assert client.run(ref, input={"text": "hi"}) == "You said: hi"  # the old one still runs
    assert not list((server.data_dir / "uploads").iterdir())  # nothing left behind


def test_only_owners_push_and_a_token_is_needed(server: Server, tmp_path: Path) -> None:
    alice, bob = account_token(server, "alice"), account_token(server, "bob")
    private, public = echo_model(tmp_path), echo_model(tmp_path, public=True)
    as_alice = client_env(tmp_path, server.url, alice)
    stale = server.data_dir / "uploads" / "push-cut-off"  # left by a server that stopped
    (stale / "dir").mkdir(parents=True)
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    assert pier("push", str(private), "alice/secret", env=as_alice).returncode == 0
    assert not stale.exists()
    assert pier("push", str(public), "alice/shared", env=as_alice).returncode == 0

    as_bob = client_env(tmp_path, server.url, bob)
    hidden = pier("push", str(private), "alice/secret", env=as_bob)
    assert hidden.returncode == 1
    assert "404: Model alice/secret was not found" in hidden.stderr
    seen = pier("push", str(public), "alice/shared", env=as_bob)
    assert (
        seen.returncode == 1 and "403: Model alice/shared belongs to another account" in seen.stderr
    )
    elsewhere = pier("push", str(private), "alice/new", env=as_bob)
    assert elsewhere.returncode == 1 and "like bob/new" in elsewhere.stderr
    assert pier("push", str(private), "bob/echo", env=as_bob).returncode == 0

    anonymous = pier(
        "push", str(private), "alice/secret", env=client_env(tmp_path, server.url, None)
    )
    assert anonymous.returncode == 1
    assert "401 from" in anonymous.stderr and "sent no token" in anonymous.stderr
    assert "You did not pass an authentication token" in anonymous.stderr
    wrong = pier("push", str(private), "alice/secret", env=client_env(tmp_path, server.url, "x"))
    assert wrong.returncode == 1 and "401" in wrong.stderr
    assert "Traceback" not in hidden.stderr + seen.stderr + anonymous.stderr + wrong.stderr

    versions = httpx.get(
        f"{server.url}/v1/models/alice/secret/versions",
        headers={"Authorization": f"Bearer {alice}"},
    ).json()
    assert len(versions["results"]) == 1  # bob's pushes added nothing


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_entry(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def link_entry(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, None


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that takes archives of at most 50 kB, unpacking to at most 200 kB."""
    limits = {"PIER_MAX_PUSH_BYTES": "50000", "PIER_MAX_PUSH_UNPACKED_BYTES": "200000"}
    server = Server(tmp_path_factory.mktemp("limited") / "data", env=limits)
    server.start("--no-builtin-models")
    yield server
    server.stop()


@contextlib.contextmanager
def official_client(server: Server, token: str) -> Iterator[replicate.Client]:
    client = replicate.Client(api_token=token, base_url=server.url)
    try:
        yield client
    finally:
        client._client.close()


COG_YAML = b'predict: "predict.py:Predictor"\n'
PREDICT = (BUILTIN / "echo" / "predict.py").read_bytes()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not an archive", 422, "not a readable tar.gz archive"),
        (
            tar_gz(file_entry("cog.yaml", COG_YAML), file_entry("../../escape.py", b"x")),
            422,
            "outside the destination",
        ),
        (
            tar_gz(file_entry("cog.yaml", COG_YAML), link_entry("passwd", "/etc/passwd")),
            422,
            "absolute",
        ),
        (
            tar_gz(file_entry("cog.yaml", COG_YAML), link_entry("up", "../../../etc")),
            422,
            "outside the destination",
        ),
        (tar_gz(file_entry("predict.py", PREDICT)), 422, "no cog.yaml"),
        (
            tar_gz(file_entry("cog.yaml", COG_YAML), file_entry("predict.py", b"def (:\n")),
            422,
            "predict.py",
        ),
        (tar_gz(file_entry("zeros.bin", bytes(300_000))), 413, "max_push_unpacked_bytes"),
        (bytes(60_000), 413, "max_push_bytes"),
    ],
    ids=[
        "not-gzip",
        "path-traversal",
        "absolute-link",
        "link-out",
        "no-cog-yaml",
        "broken-model",
        "unpacks-too-large",
        "too-large",
    ],
)
def test_bad_archives_get_a_clear_error(
    limited: Server, tmp_path: Path, body: bytes, status: int, message: str
) -> None:
    server = limited
    answer = post(server, "admin/bad", body, server.token)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert message in answer.json()["detail"]
    assert not (tmp_path / "escape.py").exists()
    missing = httpx.get(
        f"{server.url}/v1/models/admin/bad", headers={"Authorization": f"Bearer {server.token}"}
    )
    assert missing.status_code == 404  # nothing was registered
    assert not list((server.data_dir / "uploads").iterdir())


def test_a_failed_build_streams_its_error_and_the_cli_says_it(
    server: Server, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cog.yaml").write_bytes(COG_YAML)
    (broken / "predict.py").write_text("raise RuntimeError('this model cannot load')\n")
    streamed = post(
        server,
        "admin/broken",
        gzip_of(broken, tmp_path),
        server.token,
        Accept="application/x-ndjson",
    )
    assert streamed.status_code == 200
    lines = [line for line in streamed.text.splitlines() if line.strip()]
    assert '"log"' in lines[0]
    last = httpx.Response(200, content=lines[-1]).json()
    assert last["error"]["status"] == 422
    assert "this model cannot load" in last["error"]["detail"]

    pushed = pier(
        "push", str(broken), "admin/broken", env=client_env(tmp_path, server.url, server.token)
    )
    assert pushed.returncode == 1
    assert "422" in pushed.stderr and "this model cannot load" in pushed.stderr
    assert "Traceback" not in pushed.stderr.split("Error:")[-1]


def test_weights_from_a_pier_file_url(server: Server, tmp_path: Path) -> None:
    alice, bob = account_token(server, "alice"), account_token(server, "bob")
    uploaded = httpx.post(
        f"{server.url}/v1/files",
        files={"content": ("weights.bin", b"alice's weights")},
        headers={"Authorization": f"Bearer {alice}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    url = f"{server.url}/v1/files/{uploaded.json()['id']}"
    model = model_dir(tmp_path, "setup_weights.py")
    (model / "cog.yaml").write_text(
        f'predict: "predict.py:Predictor"\nenvironment:\n  - COG_WEIGHTS={url}\n'
    )
    pushed = pier("push", str(model), "alice/weighted", env=client_env(tmp_path, server.url, alice))
    assert pushed.returncode == 0, pushed.stderr
    with official_client(server, alice) as client:
        assert client.run(pushed.stdout.strip(), input={}) == "Path:alice's weights"

    # Bob's model cannot name Alice's file.
    (model / "README.md").write_text("Bob's copy\n")
    pushed = pier("push", str(model), "bob/weighted", env=client_env(tmp_path, server.url, bob))
    assert pushed.returncode == 0, pushed.stderr
    with official_client(server, bob) as client:
        with pytest.raises(ModelError, match="does not belong to the model's owner"):
            client.run(pushed.stdout.strip(), input={})
