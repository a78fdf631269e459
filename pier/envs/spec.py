"""cog.yaml's `build` section, checked: what environment a model asks for, and its lock.

A `BuildRequest` is what the model directory asks for (checked against this machine: system
packages present, no `run` command that needs root). An `EnvSpec` is what gets built: the
resolved lock, the Python version, the `run` commands and the torch index. The version row
stores the spec, so any worker builds the same environment from it; its hash is the
environment's key.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The runner and the `cog` shim use the standard library of Python 3.11 and later.
RUNNER_MIN_PYTHON = (3, 11)
# Cog's own runtime always has these, and models import them without declaring them.
BASELINE = ("requests", "pydantic")
# `run:` commands that need root: refused, since Pier builds environments as its own user.
ROOT_COMMAND = re.compile(
    r"(?:^|[\s;&|(`])(sudo|su|apt|apt-get|aptitude|dpkg|yum|dnf|apk|zypper|pacman|snap)(?=\s|$)"
)
COG_REQUIREMENT = re.compile(r"^cog(?:$|[\s<>=!~\[;@])", re.IGNORECASE)
VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")


class EnvError(Exception):
    """An environment that cannot be planned or built; `logs` holds the build log's tail."""

    def __init__(self, message: str, logs: str = "") -> None:
        super().__init__(message + (f"\n{logs}" if logs else ""))
        self.message = message
        self.logs = logs


@dataclass(frozen=True)
class BuildRequest:
    python: str  # "3.11"
    requirements: str  # requirements.in text: the model's, then the baseline
    run: tuple[str, ...]
    gpu: bool
    cuda: str | None
    directory: Path  # relative paths in the requirements resolve from here
    notes: tuple[str, ...] = field(default=())  # build-log lines about choices made


@dataclass(frozen=True)
class EnvSpec:
    """What a version's environment is built from; stored with the version as JSON."""

    python: str
    lock: str
    run: tuple[str, ...] = ()
    torch_backend: str | None = None

    @property
    def key(self) -> str:
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "lock": self.lock,
            "run": list(self.run),
            "torch_backend": self.torch_backend,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnvSpec:
        return cls(
            python=str(data["python"]),
            lock=str(data["lock"]),
            run=tuple(str(c) for c in data.get("run") or ()),
            torch_backend=data.get("torch_backend"),
        )


def plan(build: Any, directory: Path, *, host: bool = False) -> BuildRequest | None:
    """Check a cog.yaml `build` section; None when the model runs in Pier's own environment.

    `host` keeps a model in Pier's environment whatever it asks for (the built-in models,
    whose packages are Pier's own extras). A model that asks for nothing (no packages, no
    `run`, no newer Python than Pier's) runs there too, with no build.
    """
    if build is None:
        build = {}
    if not isinstance(build, Mapping):
        raise EnvError("cog.yaml: build must be a mapping")
    check_system_packages(_strings(build, "system_packages"))
    if host:
        return None
    notes: list[str] = []
    python = _python_version(build.get("python_version"), notes)
    run = tuple(_run_commands(build.get("run")))
    lines = _requirement_lines(build, directory, notes)
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not lines and not run and python == own:
        return None
    requirements = "\n".join([*lines, *BASELINE]) + "\n"
    gpu = bool(build.get("gpu"))
    cuda = str(build["cuda"]) if build.get("cuda") else None
    return BuildRequest(python, requirements, run, gpu, cuda, directory, tuple(notes))


def _strings(build: Mapping[str, Any], key: str) -> list[str]:
    value = build.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise EnvError(f"cog.yaml: build.{key} must be a list of strings")
    return [str(v) for v in value]


def _python_version(value: Any, notes: list[str]) -> str:
    own = sys.version_info[:2]
    if value is None:
        return f"{own[0]}.{own[1]}"
    match = VERSION_RE.match(str(value).strip())
    if match is None:
        raise EnvError(f'cog.yaml: build.python_version must look like "3.11", not {value!r}')
    wanted = (int(match[1]), int(match[2]))
    if wanted < RUNNER_MIN_PYTHON:
        low = ".".join(map(str, RUNNER_MIN_PYTHON))
        notes.append(
            f"python_version {value} is older than Pier's runner supports; using Python {low}"
        )
        wanted = RUNNER_MIN_PYTHON
    return f"{wanted[0]}.{wanted[1]}"


def _run_commands(value: Any) -> list[str]:
    commands = []
    for item in value or []:
        command = item.get("command") if isinstance(item, Mapping) else item
        if not isinstance(command, str) or not command.strip():
            raise EnvError("cog.yaml: each build.run entry must be a command (a string)")
        root = ROOT_COMMAND.search(command)
        if root is not None:
            raise EnvError(
                f"cog.yaml: the run command {command!r} needs root ({root[1]}): Pier builds "
                "environments without root and runs no package manager of the system. Install "
                "what it needs on the host, list it under system_packages, and drop the command."
            )
        commands.append(command)
    return commands


def _requirement_lines(build: Mapping[str, Any], directory: Path, notes: list[str]) -> list[str]:
    lines = _strings(build, "python_packages")
    name = build.get("python_requirements")
    if name:
        file = (directory / str(name)).resolve()
        if not file.is_relative_to(directory.resolve()) or not file.is_file():
            raise EnvError(f"cog.yaml: python_requirements file {name} is not in the model")
        lines += file.read_text().splitlines()
    kept = []
    for line in lines:
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        if COG_REQUIREMENT.match(text):
            notes.append(f"left out {text!r}: Pier's own cog package stands in for it")
            continue
        kept.append(text)
    return kept


def check_system_packages(names: list[str]) -> None:
    """Raise EnvError naming each Debian package (or, without dpkg, command) that is missing."""
    missing = [name for name in names if not _installed(name)]
    if missing:
        raise EnvError(
            "cog.yaml needs system packages that are not installed on this machine: "
            + ", ".join(missing)
            + ". Pier does not run apt: install them on the host (as root: apt-get install "
            + " ".join(missing)
            + ") and add the model again."
        )


def _installed(name: str) -> bool:
    dpkg = shutil.which("dpkg-query")
    if dpkg is None:
        return shutil.which(name) is not None
    done = subprocess.run(
        [dpkg, "-W", "-f=${Status}", name], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and done.stdout.strip().endswith(" installed")
