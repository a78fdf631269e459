"""Dynamic batching: the built-in embedding model (pier/minilm) at 32 concurrent clients,
batched against unbatched, through the whole API.

One `pier serve` (one model process per version) holds two versions of the same model in
Pier's own environment: the built-in directory as shipped (pier.yaml `batch:` gathers up to 32
waiting predictions into one predict_batch call) and a copy without the `batch:` section (one
predict call per prediction). Each gets the same load: 32 keep-alive connections, each sending
`POST /v1/models/<name>/predictions` with `Prefer: wait` (one sentence to embed) and the next
as soon as the answer comes, from the raw-socket client (httpload.py), which costs little CPU.
The two runs alternate for `--rounds` rounds and the best of each counts, so a burst of other
work on a shared machine does not decide the ratio. Prints predictions/s, p50/p99, the batch
sizes seen and the ratio of the best runs; the target is >= 4x.
Run: python bench/batching.py [--requests N] [--clients C] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import Result, build_request, load  # noqa: E402
from overhead import TOKEN, add_model, free_port, pier_env  # noqa: E402

HERE = Path(__file__).resolve().parent
MINILM = HERE.parent / "pier" / "builtin" / "minilm"
TEXT = "A red star on a black background, next to a small pink heart."
BODY = json.dumps({"input": {"texts": TEXT}}).encode()
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Prefer": "wait"}


def unbatched_copy(root: Path) -> Path:
    """The built-in model without its `batch:` section (and so in Pier's environment too)."""
    target = root / "minilm-unbatched"
    shutil.copytree(MINILM, target)
    meta = yaml.safe_load((target / "pier.yaml").read_text())
    meta.pop("batch")
    (target / "pier.yaml").write_text(yaml.safe_dump(meta))
    cog = yaml.safe_load((target / "cog.yaml").read_text())
    cog.pop("build", None)  # the packages are Pier's own `models` extra: no build needed
    (target / "cog.yaml").write_text(yaml.safe_dump(cog))
    return target


def start(data: Path, port: int) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    names = {"batched": "pier/minilm", "unbatched": "bench/minilm-unbatched"}
    add_model(data, MINILM, names["batched"])
    add_model(data, unbatched_copy(data.parent), names["unbatched"])
    command = ["serve", "--port", str(port), "--data-dir", str(data), "--no-builtin-models"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pier.cli.main", *command, "--workers", "1"],
        env=pier_env(),
        stdout=subprocess.DEVNULL,
    )
    return process, names


async def warm(port: int, name: str) -> None:
    """Boot the model process (torch, the weights) and wait until it answers."""
    url = f"http://127.0.0.1:{port}/v1/models/{name}/predictions"
    deadline = time.monotonic() + 300
    async with httpx.AsyncClient(timeout=120) as client:
        while True:
            try:
                answer = await client.post(url, content=BODY, headers=HEADERS)
                if answer.status_code == 201 and answer.json()["status"] == "succeeded":
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer")
            await asyncio.sleep(0.5)


async def batch_sizes(port: int, name: str, clients: int) -> list[int]:
    """One round of `clients` predictions at once: the batch size each one ran in."""
    url = f"http://127.0.0.1:{port}/v1/models/{name}/predictions"
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        answers = await asyncio.gather(
            *(client.post(url, content=BODY, headers=HEADERS) for _ in range(clients))
        )
    return [int(a.json()["metrics"].get("batch_size", 1)) for a in answers]


async def measure(port: int, name: str, requests: int, clients: int) -> Result:
    path = f"/v1/models/{name}/predictions"
    request = build_request("127.0.0.1", port, path, BODY, HEADERS)
    await warm(port, name)
    await load("127.0.0.1", port, request, clients * 2, clients)  # the first batches
    return await load("127.0.0.1", port, request, requests, clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=320, help="predictions per run")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, best one counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        process, names = start(Path(tmp) / "data", port)
        runs: dict[str, list[Result]] = {"unbatched": [], "batched": []}
        try:
            for _ in range(args.rounds):  # alternated, so a burst of other work hits both
                for mode, results in runs.items():
                    results.append(
                        asyncio.run(measure(port, names[mode], args.requests, args.clients))
                    )
            sizes = asyncio.run(batch_sizes(port, names["batched"], args.clients))
        finally:
            process.terminate()
            process.wait()
    print(
        f"pier/minilm, one sentence per prediction: {args.requests} predictions per run, "
        f"{args.clients} concurrent clients, Prefer: wait, one model process; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[1]:.1f} (other work skews both runs)"
    )
    for index in range(args.rounds):
        print(runs["unbatched"][index].line(f"round {index + 1}: unbatched"))
        print(runs["batched"][index].line(f"round {index + 1}: batched (max_size 32, 10 ms)"))
    unbatched = max(runs["unbatched"], key=lambda r: r.rate)
    batched = max(runs["batched"], key=lambda r: r.rate)
    print(unbatched.line("best unbatched (one predict per call)"))
    print(batched.line("best batched"))
    print(
        f"batch sizes in one round of {args.clients} at once: mean "
        f"{statistics.mean(sizes):.1f}, largest {max(sizes)}"
    )
    ratio = batched.rate / unbatched.rate
    print(f"ratio batched/unbatched throughput: {ratio:.2f}x")
    print(f"target (>= 4x): {'met' if ratio >= 4 else 'NOT met'}")


if __name__ == "__main__":
    main()
