"""What a chatty model's logs cost the server: CPU time and memory for 20,000 vs 200,000 lines.

For each size a fresh `pier serve` runs a predictor that prints that many lines of about 110
bytes as fast as it can; the server's own CPU time (not the model process's) and the growth of
its peak memory are measured from create to the end of the prediction, then one GET of the
finished prediction. Linear cost means the 10x larger log costs about 10x, not 40x or more.
Run: python bench/logs.py [--small 20000] [--large 200000] [--width 110]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import TOKEN, free_port, wait_http  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "predictors" / "print_many_lines.py"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Cost:
    lines: int
    cpu: float  # seconds of the server's CPU
    peak_growth: int  # bytes the server's peak RSS grew by
    wall: float
    stored: int  # bytes of logs the finished prediction returns


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime of the process itself


def memory(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak(pid: int) -> None:
    try:  # Linux: "5" resets the peak RSS (VmHWM) to the current RSS
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def model_dir(tmp: Path) -> Path:
    target = tmp / "model"
    target.mkdir()
    shutil.copy(FIXTURE, target / "predict.py")
    (target / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    return target


def start(data: Path, model: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PIER_ADMIN_TOKEN=TOKEN, PIER_LOG_LEVEL="warning")
    cli = [sys.executable, "-m", "pier.cli.main"]
    subprocess.run(
        [*cli, "models", "add", str(model), "--name", "bench/chatty", "--data-dir", str(data)],
        check=True,
        env=env,
        capture_output=True,
    )
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--data-dir", str(data), "--no-builtin-models"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/v1/account")
    return process


def run(client: httpx.Client, lines: int, width: int) -> dict[str, object]:
    """One prediction, waited for (`Prefer: wait`, then a slow poll) so reading costs little."""
    body: dict[str, object] = client.post(
        "/v1/models/bench/chatty/predictions",
        json={"input": {"lines": lines, "width": width}},
        headers={"Prefer": "wait=60"},
    ).json()
    deadline = time.monotonic() + 600
    while body["status"] not in ("succeeded", "failed", "canceled"):
        if time.monotonic() > deadline:
            raise RuntimeError("the prediction did not finish in 10 minutes")
        time.sleep(1.0)
        body = client.get(f"/v1/predictions/{body['id']}").json()
    if body["status"] != "succeeded":
        raise RuntimeError(f"the prediction ended {body['status']}: {body.get('error')}")
    return body


def measure(tmp: Path, lines: int, width: int) -> Cost:
    data = tmp / f"data-{lines}"
    port = free_port()
    folder = tmp / f"model-{lines}"
    folder.mkdir()
    server = start(data, model_dir(folder), port)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=90) as c:
            run(c, 1, width)  # the model process is up before measuring
            reset_peak(server.pid)
            rss_before = memory(server.pid, "VmRSS")
            cpu_before, started = cpu_seconds(server.pid), time.monotonic()
            body = run(c, lines, width)
            wall = time.monotonic() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            peak = memory(server.pid, "VmHWM") - rss_before
    finally:
        server.terminate()
        server.wait()
    return Cost(lines, cpu, peak, wall, len(str(body["logs"]).encode()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--width", type=int, default=110, help="characters per line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = measure(Path(tmp), args.small, args.width)
        large = measure(Path(tmp), args.large, args.width)
    mib = 1024 * 1024
    print(f"a model printing lines of {args.width + 1} bytes; server process only")
    for cost in (small, large):
        printed = cost.lines * (args.width + 1) / 1e6
        print(
            f"{cost.lines:>9,} lines ({printed:5.1f} MB): server CPU {cost.cpu:6.2f} s, "
            f"peak memory +{cost.peak_growth / mib:6.1f} MiB, wall {cost.wall:6.2f} s, "
            f"stored log {cost.stored / mib:5.2f} MiB"
        )
    ratio = large.cpu / small.cpu if small.cpu else float("inf")
    size = large.lines / small.lines
    print(f"CPU ratio {ratio:.1f}x for {size:.0f}x the lines (linear: about {size:.0f}x)")


if __name__ == "__main__":
    main()
