"""Resolving a build request into a lock, and building each lock's environment once.

Layout under the environment root (DATA_DIR/envs):

    <key>/              a virtualenv, ready once it holds `.pier-ok` (written last)
    <key>/pier-lock.txt the lock it was installed from; manifest.json: spec, size, timings
    <key>.build         flock: held while building, so one machine builds a key once at a time
    <key>.lock          flock: shared while a model process uses it (the cache skips those)
    .uv-cache/          uv's cache (same filesystem, so installs link files instead of copying)
    .resolved/          locks resolved for plain requirement lists, reused for RESOLVED_TTL
    .runner-<hash>/     Pier's runner packages, put on the model process's PYTHONPATH

An environment is built in place under the exclusive lock and published by its marker, so a
build that died half way is never used: the next one removes it and starts again.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pier.envs.cache import READY, evict, tree_bytes
from pier.envs.runnerdir import runner_dir
from pier.envs.spec import BuildRequest, EnvError, EnvSpec, plan
from pier.envs.uvtool import LogFn, Logged, find_python, uv_binary, uv_environ

if TYPE_CHECKING:
    from pier.settings import Settings

BUILD_TIMEOUT = 3600.0  # seconds one step (resolve, install, a run command) may take
# A lock resolved for the same requirements is reused this long (seconds): pushing the same
# cog.yaml again builds nothing and asks the package index nothing.
RESOLVED_TTL = 86400.0
# A requirement named by its text alone (no file, URL or option line).
PLAIN_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*([<>=!~;][^@]*)?$")
GIB = 1024**3
# What a `run:` command sees of Pier's environment (the server's secrets stay out).
RUN_PASSED = {"HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"}
RUN_PREFIXES = ("LC_", "PIP_", "UV_", "REQUESTS_CA_BUNDLE")


@dataclass(frozen=True)
class EnvConfig:
    root: Path  # DATA_DIR/envs
    cache_bytes: int = 20 * GIB
    torch_backend: str = "auto"
    constraints: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EnvConfig:
        return cls(
            root=settings.data_dir / "envs",
            cache_bytes=settings.env_cache_bytes,
            torch_backend=settings.env_torch_backend,
            constraints=Path(settings.env_constraints) if settings.env_constraints else None,
        )

    @property
    def uv_cache(self) -> Path:
        return self.root / ".uv-cache"


@dataclass
class Env:
    """An environment a model process runs in. Built ones are held (shared lock) until
    `release()`, so the cache never removes an environment in use."""

    python: str
    runner_path: str  # the PYTHONPATH entry that holds the `pier` runner packages
    variables: dict[str, str] = field(default_factory=dict)  # VIRTUAL_ENV, PATH
    key: str | None = None
    _fd: int | None = None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def host_env() -> Env:
    """Pier's own interpreter: models that ask for nothing, and the built-in models."""
    from pier.runner.process import PIER_ROOT

    return Env(sys.executable, PIER_ROOT)


def torch_backend(request: BuildRequest, config: EnvConfig) -> str | None:
    """Which PyTorch wheel index uv uses: CPU builds unless the model wants a GPU and the
    machine has an NVIDIA driver (then its `cuda`, or uv's pick for the driver)."""
    if config.torch_backend == "none":
        return None
    if config.torch_backend != "auto":
        return config.torch_backend
    if not request.gpu or shutil.which("nvidia-smi") is None:
        return "cpu"
    if request.cuda:
        return "cu" + "".join(request.cuda.split(".")[:2])
    return "auto"


async def resolve(request: BuildRequest, config: EnvConfig, on_log: LogFn) -> EnvSpec:
    """Pin every package the model needs (uv pip compile) for this machine's Python."""
    log = Logged(on_log)
    for note in request.notes:
        log.line(note)
    env = uv_environ(config.uv_cache)
    backend = torch_backend(request, config)
    remembered = _remembered(request, backend, config)
    if remembered is not None and remembered.is_file():
        age = time.time() - remembered.stat().st_mtime
        if age < RESOLVED_TTL:
            log.line(f"Using the packages resolved {age / 60:.0f} min ago for these requirements")
            return EnvSpec(request.python, remembered.read_text(), request.run, backend)
    python = await find_python(request.python, env, log)
    log.line(f"Resolving the Python packages for Python {request.python} ({python})")
    with tempfile.TemporaryDirectory(prefix="pier-resolve-") as tmp:
        wanted = Path(tmp) / "requirements.in"
        wanted.write_text(request.requirements)
        argv = [uv_binary(), "pip", "compile", str(wanted), "--python", python]
        argv += ["--no-header", "--no-annotate", "--emit-index-url", "--emit-find-links"]
        if config.constraints is not None:
            argv += ["--constraint", str(config.constraints)]
        if backend:
            argv += ["--torch-backend", backend]
        code, lock = await log.run(
            argv, env=env, cwd=request.directory, timeout=BUILD_TIMEOUT, capture=True
        )
    if code != 0:
        raise EnvError("Resolving the model's Python packages failed:", log.text())
    if remembered is not None:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        staging = remembered.with_name(f"{remembered.name}.{os.getpid()}.tmp")
        staging.write_text(lock)
        os.replace(staging, remembered)
    return EnvSpec(request.python, lock, request.run, backend)


def _remembered(request: BuildRequest, backend: str | None, config: EnvConfig) -> Path | None:
    """Where the lock for these exact requirements is kept (for RESOLVED_TTL), or None when
    they name files or URLs, whose contents the text does not pin."""
    lines = [line for line in request.requirements.splitlines() if line.strip()]
    if not all(PLAIN_REQUIREMENT.match(line) for line in lines):
        return None
    constraints = config.constraints.read_text() if config.constraints else ""
    uv_settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("UV_"))
    text = json.dumps([request.requirements, request.python, backend, constraints, uv_settings])
    return config.root / ".resolved" / (hashlib.sha256(text.encode()).hexdigest()[:32] + ".txt")


async def acquire(spec: EnvSpec, config: EnvConfig, on_log: LogFn) -> Env:
    """The environment for `spec`: reused when this machine has it, else built (once: a second
    caller waits for the first and reuses its result). The caller must `release()` it."""
    root = config.root
    root.mkdir(parents=True, exist_ok=True)
    target = root / spec.key
    fd = os.open(root / f"{spec.key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            if not (target / READY).is_file():
                await _build_once(spec, target, config, Logged(on_log))
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_SH)
            if (target / READY).is_file():  # not removed between the check and the lock
                break
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.utime(target / READY)  # the cache removes the least recently used first
    except BaseException:
        os.close(fd)
        raise
    await asyncio.to_thread(evict, root, config.cache_bytes, spec.key)
    bin_dir = target / "bin"
    variables = {
        "VIRTUAL_ENV": str(target),
        "PATH": os.pathsep.join(p for p in (str(bin_dir), os.environ.get("PATH")) if p),
    }
    return Env(str(bin_dir / "python"), str(runner_dir(root)), variables, spec.key, fd)


async def _build_once(spec: EnvSpec, target: Path, config: EnvConfig, log: Logged) -> None:
    """Build unless another caller (thread or process) did while this one waited its turn."""
    fd = os.open(config.root / f"{spec.key}.build", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        if not (target / READY).is_file():
            await _build(spec, target, config, log)
    finally:
        os.close(fd)


async def _build(spec: EnvSpec, target: Path, config: EnvConfig, log: Logged) -> None:
    """Build into `target` (under the exclusive lock); on failure remove it and raise."""
    started = time.monotonic()
    if target.exists():  # what a build that died left behind
        await asyncio.to_thread(shutil.rmtree, target)
    env = uv_environ(config.uv_cache)
    uv = uv_binary()
    log.line(f"Building the environment {spec.key} (Python {spec.python})")
    try:
        argv = [uv, "venv", "--python", spec.python, "--no-project", str(target)]
        if spec.run:
            argv.append("--seed")  # `run:` commands expect pip, as in Cog's images
        await _step(log, argv, env, config.root, "Creating the virtualenv failed")
        lock = target / "pier-lock.txt"
        lock.write_text(spec.lock)
        python = str(target / "bin" / "python")
        argv = [uv, "pip", "install", "--python", python, "--no-deps", "-r", str(lock)]
        if spec.torch_backend:
            argv += ["--torch-backend", spec.torch_backend]
        if spec.run:  # a command may patch installed files: never share their inodes
            argv += ["--link-mode", "copy"]
        await _step(log, argv, env, config.root, "Installing the packages failed")
        await _run_commands(spec, target, log)
        size = await asyncio.to_thread(tree_bytes, target)
        manifest = {
            "spec": spec.to_json(),
            "bytes": size,
            "seconds": round(time.monotonic() - started, 3),
            "built_at": time.time(),
        }
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
        ready = target / (READY + ".tmp")
        ready.write_text(spec.key)
        os.rename(ready, target / READY)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, target, True)
        raise
    log.line(f"Built the environment in {time.monotonic() - started:.1f} s")


async def _step(log: Logged, argv: list[str], env: dict[str, str], cwd: Path, what: str) -> None:
    code, _ = await log.run(argv, env=env, cwd=cwd, timeout=BUILD_TIMEOUT)
    if code != 0:
        raise EnvError(what + ":", log.text())


async def _run_commands(spec: EnvSpec, target: Path, log: Logged) -> None:
    """cog.yaml's `run:` commands, inside the environment (its bin first on PATH), in an empty
    folder, as Pier's user; writes to /usr/local/bin land in the environment's bin."""
    if not spec.run:
        return
    env = {
        name: value
        for name, value in os.environ.items()
        if name in RUN_PASSED or name.startswith(RUN_PREFIXES)
    }
    env["PATH"] = os.pathsep.join([str(target / "bin"), os.environ.get("PATH", "/usr/bin:/bin")])
    env["VIRTUAL_ENV"] = str(target)
    with tempfile.TemporaryDirectory(prefix="pier-run-") as tmp:
        for command in spec.run:
            command = command.replace("/usr/local/bin/", f"{target}/bin/")
            log.line(f"$ {command}")
            code, _ = await log.run(
                ["/bin/sh", "-c", command], env=env, cwd=Path(tmp), timeout=BUILD_TIMEOUT
            )
            if code != 0:
                raise EnvError(
                    f"The run command {command!r} failed (exit code {code}):", log.text()
                )


async def prepare(
    build: object, directory: Path, config: EnvConfig, on_log: LogFn, *, host: bool = False
) -> tuple[EnvSpec | None, Env]:
    """A model directory's environment, built or reused: (its spec, None for Pier's own
    environment; the environment, held until `release()`)."""
    request = plan(build, directory, host=host)
    if request is None:
        return None, host_env()
    spec = await resolve(request, config, on_log)
    return spec, await acquire(spec, config, on_log)


async def for_version(stored: object, config: EnvConfig, on_log: LogFn) -> Env:
    """The environment a version row records (its `env` column), built here when missing."""
    if not stored or not isinstance(stored, dict):
        return host_env()
    return await acquire(EnvSpec.from_json(stored), config, on_log)
