"""A real `pier serve` in a subprocess: port 0, a temporary data dir, its printed URL, token
and login link. Used by the browser tests and by scripts/screenshots.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PIER = [sys.executable, "-c", "from pier.cli.main import main; main()"]
BUILTIN = Path(__file__).resolve().parents[2] / "pier" / "builtin"
# The small built-in models the browser tests drive (fast, no weights, no example runs).
LIGHT_MODELS = ("echo", "stream-words", "image-filter", "slow")
CHROMIUM = os.environ.get("PIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PierServer:
    """A `pier serve` subprocess and what it printed at start."""

    data_dir: Path
    process: subprocess.Popen[str] | None = None
    url: str = ""
    token: str = ""
    login_link: str = ""
    output: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # settings beyond the defaults (PIER_*)

    def start(self, models: tuple[str, ...] | None = None, timeout: float = 90.0) -> PierServer:
        """Start the server. `models`: built-in model folders to register instead of all of
        them (each with `pier models add`), which skips the slow ones and their examples."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env)
        extra = []
        if models is not None:
            for folder in models:
                self.cli("models", "add", str(BUILTIN / folder), "--name", f"pier/{folder}")
            extra.append("--no-builtin-models")
        self.process = subprocess.Popen(
            [*PIER, "serve", "--port", "0", "--data-dir", str(self.data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pier serve did not start:\n" + "".join(self.output))
        if not self.token:  # an earlier `pier models add` made the admin token and saved it
            self.token = (self.data_dir / "admin-token").read_text().strip()
        return self

    def cli(self, *args: str) -> str:
        """Run a `pier` command against this server's data dir; its standard output."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
        done = subprocess.run(
            [*PIER, *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pier {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def _read(self, ready: threading.Event) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.output.append(line)
            if match := re.search(r"Pier is running at (\S+)", line):
                self.url = match.group(1)
            if match := re.search(r"Admin API token: (\S+)", line):
                self.token = match.group(1)
            if match := re.search(r"(https?://\S+/login\?code=\S+)", line):
                self.login_link = match.group(1)
            if self.url and self.login_link:
                ready.set()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process and self.process.stdout:
            self.process.stdout.close()

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def wait_for(self, prediction_id: str, statuses: tuple[str, ...], timeout: float = 60.0) -> Any:
        """Poll the API until the prediction reaches one of `statuses`."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                body = client.get(f"/v1/predictions/{prediction_id}").json()
                if body["status"] in statuses:
                    return body
                assert time.monotonic() < deadline, f"still {body['status']}: {body}"
                time.sleep(0.1)
