"""Model environments: what a build costs cold, with a warm uv cache and on a cache hit, and
what starting a model process in its own environment costs against Pier's own.

    python bench/envs.py [--packages "humanize==4.9.0 six==1.17.0"] [--starts 5]

  cold      resolve + build with an empty uv cache and no environments (downloads from PyPI)
  warm      resolve + build of the same lock on a machine whose uv cache has the packages
            (a second worker, or an evicted environment): files are linked from the cache
  hit       resolve + acquire where the environment exists: the second push of the same lock
            (nothing may be built; the script fails if anything is)
  start     a model process from spawn to the end of setup(), median of --starts: in the
            environment, and in Pier's own (the default for a model that asks for nothing)

Prints each figure and the ratios cold/hit, warm/hit and start(env)/start(default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from pier.envs import Env, EnvConfig, acquire, host_env, plan, resolve
from pier.runner.worker import Worker

PREDICTOR = """
from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        import humanize  # noqa: F401 - the environment's own package, where it has one

    def predict(self) -> str:
        return "ok"
"""


async def build(packages: list[str], root: Path, model: Path) -> tuple[float, list[str], Env]:
    config = EnvConfig(root)
    request = plan({"python_packages": packages}, model)
    assert request is not None
    log: list[str] = []
    started = time.perf_counter()
    spec = await resolve(request, config, log.append)
    env = await acquire(spec, config, log.append)
    return time.perf_counter() - started, log, env


async def start_time(model: Path, env: Env, starts: int) -> float:
    times = []
    for _ in range(starts):
        worker = Worker(model, "predict.py:Predictor", env=dict(env.variables))
        worker.python, worker.runner_path = env.python, env.runner_path
        started = time.perf_counter()
        await worker.ensure_started()
        times.append(time.perf_counter() - started)
        await worker.stop()
    return statistics.median(times)


async def main(packages: list[str], starts: int) -> None:
    with tempfile.TemporaryDirectory(prefix="pier-bench-envs-") as tmp:
        base = Path(tmp)
        os.environ["UV_CACHE_DIR"] = str(base / "uv-cache")
        model = base / "model"
        model.mkdir()
        (model / "predict.py").write_text(PREDICTOR)
        cold, _, env = await build(packages, base / "envs-a", model)
        env.release()
        warm, _, env = await build(packages, base / "envs-b", model)
        env.release()
        hit, log, env = await build(packages, base / "envs-b", model)
        if any("Building the environment" in line for line in log):
            raise SystemExit("the cache-hit push built something:\n" + "".join(log))
        in_env = await start_time(model, env, starts)
        env.release()
        (model / "predict.py").write_text(PREDICTOR.replace("import humanize", "import json"))
        default = await start_time(model, host_env(), starts)
    print(f"packages: {' '.join(packages)} (plus requests and pydantic, as in Cog's runtime)")
    print(f"cold build (empty uv cache)       {cold * 1000:9.0f} ms")
    print(f"build with a warm uv cache        {warm * 1000:9.0f} ms")
    print(f"cache hit (same lock, no build)   {hit * 1000:9.0f} ms")
    print(f"model start in its environment    {in_env * 1000:9.0f} ms (median of {starts})")
    print(f"model start in Pier's own         {default * 1000:9.0f} ms (median of {starts})")
    print(f"ratio cold / hit                  {cold / hit:9.1f}x")
    print(f"ratio warm / hit                  {warm / hit:9.1f}x")
    print(f"ratio start env / start default   {in_env / default:9.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", default="humanize==4.9.0 six==1.17.0")
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.packages.split(), args.starts))
