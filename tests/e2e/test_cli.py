"""The `pier` CLI against a real server, and `pier predict` without one."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.conftest import BUILTIN
from tests.e2e.conftest import Server
from tests.e2e.test_official_client import add


def pier(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=check,
        timeout=120,
    )


def test_cli_run_list_get_cancel(server_factory: type[Server], tmp_path: Path) -> None:
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    for slug in ("echo", "stream-words", "image-filter", "slow"):
        add(server, BUILTIN / slug, f"pier/{slug}")
    remote = ("--url", server.url, "--token", server.token)

    echoed = pier("run", "pier/echo", "-i", "text=a cat", "-i", "repeat=2", *remote)
    assert echoed.stdout.strip() == "You said: a cat a cat"

    streamed = pier("run", "pier/stream-words", "-i", "text=one two", "-i", "delay=0", *remote)
    assert streamed.stdout.strip() == "one two"

    slow = pier("run", "pier/slow", "-i", "steps=8", "-i", "delay=0.1", *remote)
    assert "Running [" in slow.stderr and "8/8" in slow.stderr

    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(photo)
    work = tmp_path / "work"
    work.mkdir()
    filtered = pier(
        "run",
        "pier/image-filter",
        "-i",
        f"image=@{photo}",
        "-i",
        "filter=invert",
        *remote,
        cwd=work,
    )
    saved = list(work.iterdir())
    assert len(saved) == 1 and "Saved" in filtered.stdout
    assert Image.open(saved[0]).getpixel((0, 0)) == (245, 235, 225)

    bad = pier("run", "pier/echo", "-i", "repeat=100", *remote, check=False)
    assert bad.returncode == 1 and "text is required" in bad.stderr
    assert "Traceback" not in bad.stderr

    models = pier("models", "list", *remote).stdout
    assert "pier/echo" in models and "pier/slow" in models

    listed = pier("predictions", "list", *remote).stdout.splitlines()
    assert len(listed) == 4
    first_id = listed[-1].split()[0]
    got = json.loads(pier("predictions", "get", first_id, *remote).stdout)
    assert got["output"] == "You said: a cat a cat"

    import httpx

    created = httpx.post(
        f"{server.url}/v1/models/pier/slow/predictions",
        json={"input": {"steps": 400, "delay": 0.05}},
        headers={"Authorization": f"Bearer {server.token}"},
    ).json()
    canceled = pier("predictions", "cancel", created["id"], *remote)
    assert canceled.stdout.strip() == f"{created['id']} canceled"

    unreachable = pier("models", "list", "--url", "http://127.0.0.1:9", check=False)
    assert unreachable.returncode == 1 and "cannot reach Pier" in unreachable.stderr


def test_pier_predict_runs_a_directory_without_a_server(tmp_path: Path) -> None:
    text = pier("predict", str(BUILTIN / "echo"), "-i", "text=local")
    assert text.stdout.strip() == "You said: local"
    photo = tmp_path / "in.png"
    Image.new("RGB", (4, 4), (0, 0, 0)).save(photo)
    out = tmp_path / "out"
    made = pier(
        "predict",
        str(BUILTIN / "image-filter"),
        "-i",
        f"image=@{photo}",
        "-i",
        "filter=invert",
        "--output-dir",
        str(out),
    )
    assert "Saved" in made.stdout
    (result,) = out.iterdir()
    assert Image.open(io.BytesIO(result.read_bytes())).getpixel((0, 0)) == (255, 255, 255)
    wrong = pier("predict", str(BUILTIN / "echo"), "-i", "repeat=0", check=False)
    assert wrong.returncode == 1 and "repeat" in wrong.stderr


def test_token_create_makes_a_working_token_for_a_new_account(
    server_factory: type[Server], tmp_path: Path
) -> None:
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    made = pier("token", "create", "--username", "alice", "--data-dir", str(server.data_dir))
    token = made.stdout.strip()
    assert token.startswith("pier_")
    import httpx

    me = httpx.get(f"{server.url}/v1/account", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"
    # tokens are stored hashed: the database never holds the token itself
    for stored in server.data_dir.glob("pier.db*"):
        assert token.encode() not in stored.read_bytes()
