"""One predict round trip through the runner (parent → model process → parent) for a no-op
predictor, against calling the same predictor directly in this process.

    python bench/runner_roundtrip.py [--n 5000]

Prints p50/p99 of both and their ratio. The target is a round trip well under 0.5 ms, since the
whole HTTP + database path of a no-op prediction should stay near 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import pathlib
import statistics
import tempfile
import time

from pier.runner.calls import PredictionEvents
from pier.runner.worker import Worker

PREDICTOR = """
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(description="Echoed back", default="x")) -> str:
        return text
"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1e6, p99 * 1e6


def direct(model_dir: pathlib.Path, n: int) -> list[float]:
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "pier" / "_shim"))
    spec = importlib.util.spec_from_file_location("bench_predict", model_dir / "predict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    predictor = module.Predictor()
    samples = []
    for i in range(n):
        started = time.perf_counter()
        predictor.predict(text=f"hello {i}")
        samples.append(time.perf_counter() - started)
    return samples


async def through_runner(model_dir: pathlib.Path, n: int) -> list[float]:
    worker = Worker(model_dir, "predict.py:Predictor")
    await worker.ensure_started()
    out = model_dir / "out"
    events = PredictionEvents()
    for i in range(200):  # warm up
        await worker.predict(f"w{i}", {"text": "warm"}, out, events)
    samples = []
    try:
        for i in range(n):
            started = time.perf_counter()
            result = await worker.predict(f"p{i}", {"text": f"hello {i}"}, out, events)
            samples.append(time.perf_counter() - started)
            assert result.status == "succeeded"
    finally:
        await worker.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = pathlib.Path(tmp)
        (model_dir / "predict.py").write_text(PREDICTOR)
        runner = asyncio.run(through_runner(model_dir, n))
        baseline = direct(model_dir, n)
    r50, r99 = percentiles(runner)
    d50, d99 = percentiles(baseline)
    print(f"runner round trip : p50 {r50:8.1f} us   p99 {r99:8.1f} us   ({n} sequential)")
    print(f"direct call       : p50 {d50:8.1f} us   p99 {d99:8.1f} us")
    print(f"ratio (p50)       : {r50 / d50:8.0f}x   overhead p50 {r50 - d50:.1f} us")


if __name__ == "__main__":
    main()
