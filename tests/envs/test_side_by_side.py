"""One real `pier serve` runs models whose packages conflict, each in its own environment,
added with `pier models add` (which shows the build) and predicted through the official client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import replicate

from tests.e2e.conftest import Server
from tests.envs.conftest import REPORTER, write_model

pytestmark = pytest.mark.e2e


def models_add(server: Server, directory: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pier.cli.main", "models", "add", str(directory)]
        + ["--name", name, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        env=dict(os.environ, **server.env),
        timeout=300,
    )


def test_conflicting_pins_are_served_side_by_side(
    server_factory: type[Server], tmp_path: Path
) -> None:
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    models = {
        "envs/humanize-new": ({"python_packages": ["humanize==4.9.0"]}, "humanize", "4.9.0"),
        "envs/humanize-old": ({"python_packages": ["humanize==3.14.0"]}, "humanize", "3.14.0"),
        "envs/cowsay": ({"python_packages": ["cowsay==6.1"]}, "cowsay", "6.1"),
    }
    for name, (build, _, _) in models.items():
        done = models_add(server, write_model(tmp_path / name, build), name)
        assert done.returncode == 0, done.stderr
        assert "Resolved" in done.stderr  # the build log is shown while it builds
        assert f"{name}:" in done.stdout
    client = replicate.Client(api_token=server.token, base_url=server.url)
    prefixes = set()
    try:
        for name, (_, package, version) in models.items():
            output = client.run(name, input={"package": package})
            seen, prefix = str(output).split()
            assert seen == version, (name, output)
            prefixes.add(prefix)
    finally:
        client._client.close()
    assert len(prefixes) == 3  # three environments, none of them Pier's
    assert sys.prefix not in prefixes


def test_a_failing_build_fails_models_add_with_the_log_tail(
    server_factory: type[Server], tmp_path: Path
) -> None:
    server = server_factory(tmp_path / "data").start("--no-builtin-models")
    build = {"python_packages": ["humanize==4.9.0"], "run": ["echo the-last-words >&2; false"]}
    done = models_add(server, write_model(tmp_path / "bad", build), "envs/bad")
    assert done.returncode == 1
    assert "the-last-words" in done.stderr.split("Error:", 1)[1]
    client = replicate.Client(api_token=server.token, base_url=server.url)
    try:
        with pytest.raises(replicate.exceptions.ReplicateError):
            client.models.get("envs/bad")
    finally:
        client._client.close()


def test_two_adds_of_one_lock_at_once_build_it_once(tmp_path: Path) -> None:
    """Two `pier models add` processes, same packages, same moment: one builds, the other
    waits for it and reuses its environment."""
    data = tmp_path / "data"
    first = models_add(Server(data), write_model(tmp_path / "plain", {}), "envs/plain")
    assert first.returncode == 0, first.stderr  # the database exists before the race
    build = {"python_packages": ["humanize==4.8.0"]}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pier.cli.main", "models", "add"]
            + [str(write_model(tmp_path / f"m{i}", build, f"# model {i}\n" + REPORTER))]
            + ["--name", f"envs/twin-{i}", "--data-dir", str(data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PIER_BUILTIN_MODELS="false"),
        )
        for i in range(2)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    builders = [err for _, err in results if "Building the environment" in err]
    assert len(builders) == 1, results
    envs = [p for p in (data / "envs").iterdir() if not p.name.startswith(".") and p.is_dir()]
    assert len(envs) == 1
