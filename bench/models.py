"""Wall time of the built-in models at their default inputs: called in-process and through
Pier's API with the official `replicate` client, side by side, with the ratio.

For each model (default inputs; image-to-image gets the image from its pier.yaml example):
  direct   the predictor imported and called in this process (Pier's `cog` shim), p50 of N runs
  api      `replicate.Client(base_url=<pier serve>).run(...)` against a real `pier serve`, output
           files downloaded, p50 of N runs after one untimed warm-up (which boots the model)
For tiny-llm also time to first token and tokens/s, directly and with `client.stream(...)`.

Run: python bench/models.py [--runs 3] [--models text-to-image,tiny-llm] [--no-api]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = ROOT / "pier" / "builtin"
MODELS = ("text-to-image", "text-to-video", "image-to-image", "tiny-llm", "minilm")
TOKEN = "bench-models-token"


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)


def required_inputs(slug: str, tmp: Path) -> dict[str, Any]:
    """Inputs without defaults, taken from the model's pier.yaml example (files as data URIs)."""
    if slug != "image-to-image":
        return {}
    example = yaml.safe_load((BUILTIN / slug / "pier.yaml").read_text())["example"]
    return {"image": example["image"]}


def as_local(value: Any, tmp: Path) -> Any:
    """A data URI becomes a file, as the runner would hand it to predict()."""
    if isinstance(value, str) and value.startswith("data:"):
        header, _, payload = value.partition(",")
        suffix = "." + header.split("/")[1].split(";")[0]
        path = tmp / f"input{suffix}"
        path.write_bytes(base64.b64decode(payload))
        return path
    return value


def load_predictor(slug: str) -> Any:
    model_dir = BUILTIN / slug
    sys.path[:0] = [str(ROOT / "pier" / "_shim"), str(model_dir)]
    name = "bench_predict_" + slug.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, model_dir / "predict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    predictor = module.Predictor()
    predictor.setup()
    return predictor


def defaults(predictor: Any) -> dict[str, Any]:
    import inspect

    values = {}
    for name, param in inspect.signature(predictor.predict).parameters.items():
        default = getattr(param.default, "default", param.default)
        if default is not inspect.Parameter.empty and default is not Ellipsis:
            values[name] = default
    return values


def consume(output: Any, timing: Timing, started: float, streaming: bool) -> None:
    """Drain an output; for a stream note the first token's time and the token rate."""
    if not streaming:
        for item in output if isinstance(output, list) else [output]:
            read_files(item)
        return
    count, first = 0, None
    for _ in output:
        count += 1
        if first is None:
            first = time.perf_counter()
    if first is not None:
        end = time.perf_counter()
        timing.first_token.append(first - started)
        if count > 1 and end > first:
            timing.tokens_per_s.append((count - 1) / (end - first))


def read_files(item: Any) -> None:
    if hasattr(item, "read"):  # replicate's FileOutput: download it, as a user would
        item.read()


def measure(call: Callable[[], Any], runs: int, warmup: int, streaming: bool) -> Timing:
    timing = Timing()
    for i in range(warmup + runs):
        probe = Timing()
        started = time.perf_counter()
        consume(call(), probe, started, streaming)
        if i >= warmup:
            timing.seconds.append(time.perf_counter() - started)
            timing.first_token += probe.first_token
            timing.tokens_per_s += probe.tokens_per_s
    return timing


def direct(slugs: list[str], runs: int, tmp: Path) -> dict[str, Timing]:
    import torch

    threads = torch.get_num_threads()
    results = {}
    for slug in slugs:
        torch.set_num_threads(threads)  # a model may change it in setup (tiny-llm uses one)
        predictor = load_predictor(slug)
        inputs = defaults(predictor)
        inputs.update({k: as_local(v, tmp) for k, v in required_inputs(slug, tmp).items()})
        if "seed" in inputs:
            inputs["seed"] = 1
        call = functools.partial(predictor.predict, **inputs)
        results[slug] = measure(call, runs, 0, slug == "tiny-llm")
        print(f"  direct {slug}: p50 {results[slug].p50:.2f}s", file=sys.stderr)
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_pier(data: Path, port: int, slugs: list[str]) -> subprocess.Popen[bytes]:
    """`pier serve` with only the benchmarked models, added by `pier models add` beforehand so
    that no example predictions run at start and compete for the CPU."""
    env = dict(os.environ, PIER_ADMIN_TOKEN=TOKEN, PIER_LOG_LEVEL="warning")
    cli = [sys.executable, "-m", "pier.cli.main"]
    for slug in slugs:
        add = ["models", "add", str(BUILTIN / slug), "--name", f"pier/{slug}"]
        subprocess.run(
            [*cli, *add, "--data-dir", str(data)], env=env, check=True, capture_output=True
        )
    serve = ["serve", "--port", str(port), "--data-dir", str(data), "--no-builtin-models"]
    process = subprocess.Popen([*cli, *serve], env=env, stdout=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            models = httpx.get(
                f"http://127.0.0.1:{port}/v1/models",
                timeout=2,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            if models.status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("pier serve did not come up within 180 s")


def api_call(client: Any, slug: str, inputs: dict[str, Any]) -> Any:
    """One prediction with the official client: streamed for tiny-llm, `run` for the rest."""
    if slug == "tiny-llm":
        stream = client.stream(f"pier/{slug}", input=inputs)
        return (e.data for e in stream if e.event.value == "output")
    return client.run(f"pier/{slug}", input=inputs)


def through_api(slugs: list[str], runs: int, tmp: Path) -> dict[str, Timing]:
    import replicate

    port = free_port()
    pier = start_pier(tmp / "data", port, slugs)
    try:
        client = replicate.Client(api_token=TOKEN, base_url=f"http://127.0.0.1:{port}")
        results = {}
        for slug in slugs:
            inputs = required_inputs(slug, tmp)
            if slug != "minilm":
                inputs["seed"] = 1
            call = functools.partial(api_call, client, slug, inputs)
            results[slug] = measure(call, runs, 1, slug == "tiny-llm")
            print(f"  api {slug}: p50 {results[slug].p50:.2f}s", file=sys.stderr)
        return results
    finally:
        pier.terminate()
        pier.wait()


def report(direct_t: dict[str, Timing], api_t: dict[str, Timing], runs: int) -> None:
    print(f"built-in models at default inputs, p50 of {runs} runs, {os.cpu_count()} CPUs")
    print(f"{'model':<16}{'direct s':>10}{'api s':>10}{'api/direct':>12}")
    for slug, d in direct_t.items():
        a = api_t.get(slug)
        api_cols = f"{a.p50:>10.2f}{a.p50 / d.p50:>11.2f}x" if a else f"{'-':>10}{'-':>12}"
        print(f"{slug:<16}{d.p50:>10.2f}{api_cols}")
    for label, timings in (("direct", direct_t), ("api", api_t)):
        llm = timings.get("tiny-llm")
        if llm and llm.first_token:
            print(
                f"tiny-llm {label:<6} time to first token p50 "
                f"{statistics.median(llm.first_token) * 1000:7.1f} ms, "
                f"{statistics.median(llm.tokens_per_s):6.1f} tokens/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--no-api", action="store_true", help="only the in-process timings")
    args = parser.parse_args()
    slugs = [s for s in args.models.split(",") if s]
    unknown = set(slugs) - set(MODELS)
    if unknown:
        parser.error(f"unknown models: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(sys.stderr):  # the models' own prints
            direct_t = direct(slugs, args.runs, Path(tmp))
        api_t = {} if args.no_api else through_api(slugs, args.runs, Path(tmp))
    report(direct_t, api_t, args.runs)


if __name__ == "__main__":
    main()
