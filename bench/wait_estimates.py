"""How good the queue's wait estimates are, on built-in models.

For each model, a number of predictions are queued at once on one model process. Once the first
one is under way (its progress at 10% or more), the estimated wait of each one still queued is
read from the API, and later compared with when it really started. Estimates read again once the
second run is under way (now with a finished run to go by) are compared the same way.

Prints estimated and actual waits and their ratio; exits 1 if a ratio leaves 0.7-1.3 (±30%).
Run: python bench/wait_estimates.py [--models slow,text-to-image] [--jobs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pier.api.app import create_app  # noqa: E402
from pier.registry import register  # noqa: E402
from pier.settings import Settings  # noqa: E402

BUILTIN = ROOT / "pier" / "builtin"
INPUTS: dict[str, dict[str, Any]] = {
    "slow": {"steps": 30, "delay": 0.1},
    "text-to-image": {"prompt": "a red star", "num_inference_steps": 100, "num_outputs": 4},
}
TOKEN = "bench-token"
LOW, HIGH = 0.7, 1.3


def started(p: dict[str, Any]) -> float | None:
    value = p.get("started_at")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


async def measure(
    client: httpx.AsyncClient, model: str, jobs: int
) -> list[tuple[str, float, float]]:
    """(label, estimated, actual) for every job read while it waited."""
    ids = []
    for _ in range(jobs):
        response = await client.post(
            f"/v1/models/pier/{model}/predictions", json={"input": INPUTS[model]}
        )
        response.raise_for_status()
        ids.append(response.json()["id"])
    readings: list[tuple[str, float, str, float]] = []  # (label, read at, job, estimate)
    read_for: set[int] = set()
    while True:
        states = [(await client.get(f"/v1/predictions/{i}")).json() for i in ids]
        if all(p["status"] in ("succeeded", "failed", "canceled") for p in states):
            break
        for k, p in enumerate(states[:2]):
            percent = (p.get("progress") or {}).get("percent") or 0
            if k not in read_for and p["status"] == "processing" and percent >= 10:
                read_for.add(k)
                now = time.time()
                for later, q in enumerate(states[k + 1 :], start=k + 1):
                    wait = (q.get("queue") or {}).get("estimated_wait")
                    if q["status"] == "starting" and isinstance(wait, int | float):
                        readings.append(
                            (f"run {k + 1} under way, job {later + 1}", now, q["id"], wait)
                        )
        await asyncio.sleep(0.05)
    finals = {p["id"]: p for p in states}
    for p in finals.values():
        if p["status"] != "succeeded":
            raise SystemExit(f"a prediction of {model} ended {p['status']}: {p.get('error')}")
    results = []
    for label, at, job, estimate in readings:
        begin = started(finals[job])
        assert begin is not None
        results.append((label, estimate, max(0.001, begin - at)))
    return results


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="slow,text-to-image")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    worst = 1.0
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(
            {"data_dir": Path(tmp), "builtin_models": False, "admin_token": TOKEN, "workers": 1},
            env={},
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            svc = app.state.services
            account = await svc.store.get_account_by_username("admin")
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=settings.base_url,
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=60,
            )
            for model in args.models.split(","):
                await register(
                    svc.store,
                    svc.files.blobs,
                    settings.data_dir,
                    account,
                    BUILTIN / model,
                    f"pier/{model}",
                )
                print(f"pier/{model} {INPUTS[model]}, {args.jobs} jobs, one model process")
                for label, estimate, actual in await measure(client, model, args.jobs):
                    ratio = estimate / actual
                    worst = max(worst, ratio, 1 / ratio)
                    ok = LOW <= ratio <= HIGH
                    failed |= not ok
                    flag = "" if ok else "  OUT OF ±30%"
                    print(
                        f"  {label:<30} estimated {estimate:7.2f} s  actual {actual:7.2f} s"
                        f"  ratio {ratio:5.2f}{flag}"
                    )
            await client.aclose()
    print(f"worst ratio {worst:.2f} (target within {LOW}-{HIGH})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
