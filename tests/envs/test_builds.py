"""Model environments, registered and run in-process: builds, their failures, the cache."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pier.envs import EnvConfig, EnvSpec, acquire, plan, resolve
from pier.envs.cache import READY, evict
from pier.registry import ModelDirError
from tests.conftest import Pier, running_pier
from tests.envs.conftest import write_model


async def versions_of(pier: Pier, name: str) -> list[object]:
    owner, model = name.split("/")
    row = await pier.services.store.get_model(owner, model)
    return [] if row is None else await pier.services.store.list_versions(row["id"])


async def predict(pier: Pier, name: str, **inputs: object) -> dict[str, object]:
    response = await pier.create(name, inputs, wait=60)
    assert response.status_code in (200, 201), response.text
    body = response.json()
    return body if body["status"] in ("succeeded", "failed") else await pier.wait_done(body["id"])


async def test_run_commands_run_inside_the_environment(tmp_path: Path) -> None:
    build = {
        "python_version": "3.11",
        "run": ["pip install --quiet humanize==4.8.0", "echo built > /usr/local/bin/marker"],
    }
    code = """
    import importlib.metadata, os, sys
    from cog import BasePredictor

    class Predictor(BasePredictor):
        def predict(self) -> str:
            import humanize
            marker = os.path.join(sys.prefix, "bin", "marker")
            return importlib.metadata.version("humanize") + " " + open(marker).read().strip()
    """
    async with running_pier(tmp_path) as pier:
        await pier.add_model("t/run", write_model(tmp_path / "run", build, code))
        body = await predict(pier, "t/run")
        assert body["status"] == "succeeded", body
        assert body["output"] == "4.8.0 built"


async def test_a_model_pinning_pydantic_1_runs_beside_pier(tmp_path: Path) -> None:
    build = {"python_packages": ["pydantic<2"]}
    async with running_pier(tmp_path) as pier:
        await pier.add_model("t/old", write_model(tmp_path / "old", build))
        body = await predict(pier, "t/old", package="pydantic")
        assert body["status"] == "succeeded", body
        version, prefix = str(body["output"]).split()
        assert version.startswith("1.")
        assert Path(prefix).is_relative_to(pier.services.settings.data_dir / "envs")


async def test_unknown_package_and_failing_build_register_nothing(tmp_path: Path) -> None:
    unknown = {"python_packages": ["surely-not-a-package-pier-knows==1.0"]}
    failing = {"python_packages": ["humanize==4.9.0"], "run": ["echo about to fail; exit 3"]}
    async with running_pier(tmp_path) as pier:
        with pytest.raises(ModelDirError, match="surely-not-a-package-pier-knows"):
            await pier.add_model("t/unknown", write_model(tmp_path / "unknown", unknown))
        with pytest.raises(ModelDirError, match=r"(?s)exit code 3.*about to fail"):
            await pier.add_model("t/failing", write_model(tmp_path / "failing", failing))
        assert await versions_of(pier, "t/unknown") == []
        assert await versions_of(pier, "t/failing") == []
        envs = pier.services.settings.data_dir / "envs"
        assert not [p for p in envs.iterdir() if (p / READY).exists()]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ({"run": ["apt-get install -y ffmpeg"]}, r"needs root \(apt-get\)"),
        ({"run": ["sudo make install"]}, r"needs root \(sudo\)"),
        ({"system_packages": ["surely-not-a-debian-package"]}, "surely-not-a-debian-package"),
        ({"python_version": "3.1x"}, "must look like"),
    ],
)
async def test_builds_that_cannot_work_here_are_refused_clearly(
    tmp_path: Path, build: dict[str, object], message: str
) -> None:
    async with running_pier(tmp_path) as pier:
        with pytest.raises(ModelDirError, match=message):
            await pier.add_model("t/refused", write_model(tmp_path / "m", build))
        assert await versions_of(pier, "t/refused") == []


def installed_pythons() -> set[str]:
    import uv

    done = subprocess.run(
        [uv.find_uv_bin(), "python", "list", "--only-installed", "--output-format", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, UV_PYTHON_DOWNLOADS="never"),
        check=False,
    )
    return {".".join(p["version"].split(".")[:2]) for p in json.loads(done.stdout or "[]")}


async def test_a_python_version_the_machine_lacks_names_those_it_has(tmp_path: Path) -> None:
    have = installed_pythons()
    missing = next(f"3.{minor}" for minor in range(11, 40) if f"3.{minor}" not in have)
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    async with running_pier(tmp_path) as pier:
        with pytest.raises(ModelDirError, match=f"Python {missing}") as caught:
            await pier.add_model("t/py", write_model(tmp_path / "m", {"python_version": missing}))
        assert mine in str(caught.value)  # the interpreters it has are named
        assert await versions_of(pier, "t/py") == []


async def test_the_same_lock_builds_once(tmp_path: Path) -> None:
    """A second model with the same packages reuses the environment: nothing is built."""
    build = {"python_packages": ["humanize==4.9.0"]}
    config = EnvConfig(tmp_path / "envs")
    first, second = [], []
    request = plan(build, write_model(tmp_path / "a", build))
    assert request is not None
    spec = await resolve(request, config, first.append)
    env = await acquire(spec, config, first.append)
    env.release()
    again = await resolve(request, config, second.append)
    assert again.key == spec.key
    (await acquire(again, config, second.append)).release()
    assert any("Building the environment" in line for line in first)
    assert not any("Building the environment" in line for line in second)
    assert not any("Installed" in line for line in second)


async def test_two_builds_of_one_key_at_once_build_it_once(tmp_path: Path) -> None:
    build = {"python_packages": ["humanize==4.9.0"]}
    config = EnvConfig(tmp_path / "envs")
    request = plan(build, write_model(tmp_path / "a", build))
    assert request is not None
    spec = await resolve(request, config, lambda _: None)
    logs: list[list[str]] = [[], [], []]
    envs = await asyncio.gather(*(acquire(spec, config, log.append) for log in logs))
    built = [log for log in logs if any("Building the environment" in x for x in log)]
    assert len(built) == 1
    assert len({env.python for env in envs}) == 1
    for env in envs:
        env.release()


async def test_least_recently_used_environments_go_past_the_budget(tmp_path: Path) -> None:
    config = EnvConfig(tmp_path / "envs")
    specs: list[EnvSpec] = []
    for version in ("4.8.0", "4.9.0"):
        build = {"python_packages": [f"humanize=={version}"]}
        request = plan(build, write_model(tmp_path / version, build))
        assert request is not None
        specs.append(await resolve(request, config, lambda _: None))
    old = await acquire(specs[0], config, lambda _: None)
    new = await acquire(specs[1], config, lambda _: None)
    # Both are held: a budget of 1 byte removes neither.
    assert evict(config.root, 1, keep="") == []
    old.release()
    assert evict(config.root, 1, keep=specs[1].key) == [specs[0].key]
    assert not (config.root / specs[0].key).exists()
    assert Path(new.python).exists()
    new.release()


async def test_a_worker_without_the_environment_builds_it_while_the_prediction_boots(
    tmp_path: Path,
) -> None:
    """As on another machine: the version row holds the lock, the worker builds from it and
    the waiting prediction's logs show the build."""
    build = {"python_packages": ["humanize==4.9.0"]}
    async with running_pier(tmp_path) as pier:
        version = await pier.add_model("t/moved", write_model(tmp_path / "m", build))
        key = EnvSpec.from_json(version["env"]).key
        shutil.rmtree(pier.services.settings.data_dir / "envs" / key)
        created = (await pier.create("t/moved", {})).json()
        steps = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            body = (await pier.client.get(f"/v1/predictions/{created['id']}")).json()
            steps.add((body.get("queue") or {}).get("step"))
            if body["status"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.01)
        assert "building the environment" in steps  # the booting phase says what it waits for
        assert body["status"] == "succeeded", body
        assert str(body["output"]).startswith("4.9.0 ")
        assert "Building the environment" in str(body["logs"])


async def test_requests_is_always_there_and_pier_s_packages_never_are(tmp_path: Path) -> None:
    """Cog's runtime always has `requests`; a model environment has it too, and none of
    Pier's own dependencies (fastapi here)."""
    code = """
    import importlib.util
    import requests
    from cog import BasePredictor

    class Predictor(BasePredictor):
        def predict(self) -> str:
            return f"{requests.__name__} fastapi={importlib.util.find_spec('fastapi') is not None}"
    """
    async with running_pier(tmp_path) as pier:
        await pier.add_model(
            "t/own", write_model(tmp_path / "own", {"python_packages": ["six"]}, code)
        )
        await pier.add_model("t/default", write_model(tmp_path / "default", {}, code))
        own = await predict(pier, "t/own")
        assert own["output"] == "requests fastapi=False", own
        default = await predict(pier, "t/default")  # Pier's own environment: no build
        assert str(default["output"]).startswith("requests "), default


@pytest.mark.parametrize(
    ("build", "setting", "backend"),
    [
        ({"python_packages": ["six"]}, "auto", "cpu"),
        ({"python_packages": ["six"], "gpu": True, "cuda": "12.4"}, "none", None),
        ({"python_packages": ["six"], "gpu": True}, "cu126", "cu126"),
    ],
)
def test_torch_comes_from_the_cpu_index_unless_a_gpu_model_has_a_gpu(
    tmp_path: Path, build: dict[str, object], setting: str, backend: str | None
) -> None:
    from pier.envs.build import torch_backend

    request = plan(build, write_model(tmp_path / "m", build))
    assert request is not None
    assert torch_backend(request, EnvConfig(tmp_path, torch_backend=setting)) == backend
    if shutil.which("nvidia-smi") is None:  # no driver: a GPU model gets CPU wheels too
        gpu = plan({**build, "gpu": True}, tmp_path / "m")
        assert gpu is not None
        assert torch_backend(gpu, EnvConfig(tmp_path)) == "cpu"
