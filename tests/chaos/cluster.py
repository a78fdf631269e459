"""A Pier cluster of real processes: API processes (`pier serve --workers 0`) and workers
(`pier worker`) sharing one database, one Redis and one file directory, each of which can be
killed with SIGKILL and started again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PIER = [sys.executable, "-m", "pier.cli.main"]
URL_LINE = re.compile(r"Pier is running at (\S+)")
# What each kind prints once it is up: the API after it listens, the worker once it claims.
READY = {"api": "Sign in to the playground:", "worker": "Pier worker "}
START_TIMEOUT = 60.0


@dataclass(eq=False)
class Member:
    kind: str  # "api" or "worker"
    index: int
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    url: str = ""  # an API process's address while it runs ("" while it is down)
    kills: int = 0

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.index}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if READY[self.kind] in text:
                break
            if not self.alive or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{text[-4000:]}")
            time.sleep(0.05)
        if self.kind == "api":
            found = URL_LINE.search(text)
            assert found is not None, text
            self.url = found.group(1)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to tidy up."""
        self.url = ""
        self.kills += 1
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self) -> None:
        """Ask the process to stop (see `wait_stopped`)."""
        self.url = ""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def tail(self, chars: int = 3000) -> str:
        text = self.log.read_bytes().decode(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log.name}) ---\n{text[-chars:]}"


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]  # PIER_* settings every process shares
    apis: list[Member] = field(default_factory=list)
    workers: list[Member] = field(default_factory=list)

    @classmethod
    def build(cls, root: Path, env: dict[str, str], apis: int, workers: int) -> Cluster:
        cluster = cls(root, env)
        (root / "logs").mkdir(parents=True, exist_ok=True)
        for index in range(apis):
            serve = ["serve", "--port", "0", "--workers", "0", "--no-builtin-models"]
            cluster.apis.append(cluster._member("api", index, serve))
        for index in range(workers):
            cluster.workers.append(cluster._member("worker", index, ["worker", "--slots", "1"]))
        return cluster

    def _member(self, kind: str, index: int, args: list[str]) -> Member:
        env = {
            **os.environ,
            **self.env,
            "PIER_DATA_DIR": str(self.root / f"{kind}-{index}"),
            "PYTHONUNBUFFERED": "1",
        }
        return Member(kind, index, PIER + args, env, self.root / "logs" / f"{kind}-{index}.log")

    @property
    def members(self) -> list[Member]:
        return self.apis + self.workers

    def urls(self) -> list[str]:
        """Addresses of the API processes that are up now."""
        return [url for url in (api.url for api in self.apis) if url]

    def start(self, member: Member) -> None:
        if member.kind == "worker":  # output links point at an API process
            member.env["PIER_PUBLIC_URL"] = next(iter(self.urls()), "")
        member.start()

    def start_all(self) -> None:
        for member in self.members:
            self.start(member)

    def stop_all(self) -> None:
        for member in self.members:
            member.terminate()
        for member in self.members:
            member.wait_stopped()

    def tails(self) -> str:
        return "\n".join(member.tail() for member in self.members)
