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

    def start(self, timeout: float = 90.0) -> PierServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pier.cli.main import main; main()",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(self.data_dir),
            ],
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
        return self

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
            if self.url and self.token and self.login_link:
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
