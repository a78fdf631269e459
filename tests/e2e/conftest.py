"""End-to-end tier: a real `pier serve` in a subprocess, on a free port, in a temp data dir."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

URL_LINE = re.compile(r"Pier is running at (\S+)")
TOKEN = "e2e-admin-token"


@dataclass
class Server:
    data_dir: Path
    process: subprocess.Popen[str] | None = None
    url: str = ""
    login_link: str = ""
    output: list[str] = field(default_factory=list)
    token: str = TOKEN
    env: dict[str, str] = field(default_factory=dict)  # settings beyond the defaults

    def start(self, *extra: str, timeout: float = 60.0) -> Server:
        env = dict(os.environ, **self.env, PIER_ADMIN_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
        self.output = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pier.cli.main",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(self.data_dir),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.process and self.process.stdout
            for line in self.process.stdout:
                self.output.append(line)
                match = URL_LINE.search(line)
                if match:
                    self.url = match.group(1)
                if "Sign in to the playground:" in line:
                    self.login_link = line.split(": ", 1)[1].strip()
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pier serve did not start:\n" + "".join(self.output))
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close()

    def _close(self) -> None:
        if self.process and self.process.stdout:
            self.process.stdout.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[type[Server]]:
    started: list[Server] = []

    class Tracked(Server):
        def start(self, *extra: str, timeout: float = 60.0) -> Server:
            started.append(self)
            return super().start(*extra, timeout=timeout)

    yield Tracked
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory: type[Server], tmp_path: Path) -> Server:
    return server_factory(tmp_path / "data").start()


class Worker:
    """A `pier worker` subprocess with the same settings as an API server."""

    def __init__(self, server: Server, data_dir: Path, *extra: str) -> None:
        env = dict(
            os.environ,
            **server.env,
            PIER_PUBLIC_URL=server.url,
            PIER_DATA_DIR=str(data_dir),
            PYTHONUNBUFFERED="1",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pier.cli.main", "worker", *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
