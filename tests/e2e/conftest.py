"""End-to-end tier: a real `pier serve` in a subprocess, on a free port, in a temp data dir."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.postgres import ThrowAwayDatabase, postgres_or_skip

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


def serve_for(
    request: pytest.FixtureRequest, data: Path, database: str, queue: Callable[[], str]
) -> tuple[Server, list[Callable[[], None]]]:
    """`pier serve` for a module's tests, by `request.param`: "embedded" (alone), or "cluster"
    (an API process that runs no models, on a throw-away PostgreSQL database, the Redis that
    `queue()` names and a bucket of the test S3 server; the caller starts a `pier worker`).
    Returns the started server and the steps that clean up after it, in order."""
    server = Server(data)
    extra = ["--no-builtin-models"]
    cleanup: list[Callable[[], None]] = []
    if request.param == "cluster":
        postgres_or_skip()
        throwaway = ThrowAwayDatabase(database)
        cleanup.append(throwaway.drop)
        s3 = request.getfixturevalue("s3_server")
        server.env = {
            "PIER_DATABASE": str(throwaway),
            "PIER_QUEUE": queue(),
            "PIER_FILES": f"s3://{s3.new_bucket()}/pier",
            **s3.env,
        }
        extra += ["--workers", "0"]
    server.start(*extra)
    return server, cleanup
