"""Running uv (and `run:` commands) as subprocesses whose output streams to a build log."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pier.envs.spec import EnvError

LogFn = Callable[[str], None]
TAIL_LINES = 40


def uv_binary() -> str:
    """The uv executable that came with Pier (the `uv` package on PyPI), else one on PATH."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise EnvError(
                "uv is not installed: Pier builds model environments with it (pip install uv)"
            ) from None
        return found


def uv_environ(cache_dir: Path) -> dict[str, str]:
    """Pier's environment for uv: its own cache (beside the environments, so files are linked,
    not copied), no Python downloads unless the operator allows them, and no active venv."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.setdefault("UV_CACHE_DIR", str(cache_dir))
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env["NO_COLOR"] = "1"
    return env


class Logged:
    """One subprocess's output, line by line, into `on_log`; keeps the last lines for errors."""

    def __init__(self, on_log: LogFn) -> None:
        self.on_log = on_log
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def line(self, text: str) -> None:
        text = text.rstrip("\r\n")
        self.tail.append(text)
        self.on_log(text + "\n")

    def text(self) -> str:
        return "\n".join(self.tail)

    async def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        timeout: float,
        capture: bool = False,
    ) -> tuple[int, str]:
        """Run `argv`; returns (exit code, stdout when `capture`, else ""). Both streams are
        logged, except a captured stdout."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE if capture else asyncio.subprocess.STDOUT,
            env=dict(env),
            cwd=str(cwd),
            start_new_session=True,
        )
        assert proc.stdout is not None
        logged = proc.stderr if capture else proc.stdout
        assert logged is not None
        captured: list[bytes] = []

        async def pump() -> None:
            async for raw in logged:
                self.line(raw.decode(errors="replace"))

        async def keep() -> None:
            assert proc.stdout is not None
            captured.append(await proc.stdout.read())

        tasks = [pump()] + ([keep()] if capture else [])
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout)
            code = await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            self.line(f"(stopped after {timeout:g} s)")
            return -1, ""
        except asyncio.CancelledError:
            proc.kill()
            await proc.wait()
            raise
        return code, b"".join(captured).decode(errors="replace")


async def find_python(version: str, env: Mapping[str, str], log: Logged) -> str:
    """The interpreter for `version` ("3.11") on this machine, or EnvError naming those there."""
    uv = uv_binary()
    code, out = await _quiet([uv, "python", "find", "--system", version], env)
    if code == 0 and out.strip():
        return out.strip().splitlines()[-1]
    _, listing = await _quiet(
        [uv, "python", "list", "--only-installed", "--output-format", "json"], env
    )
    try:
        found = sorted({str(p["version"]) for p in json.loads(listing)}, reverse=True)
    except (ValueError, TypeError, KeyError):
        found = []
    have = ", ".join(found) if found else "none that uv can find"
    raise EnvError(
        f"cog.yaml asks for Python {version}, which this machine does not have (it has: "
        f"{have}). Install Python {version} on the host (for example `uv python install "
        f"{version}` where it may download), or change build.python_version.",
        log.text(),
    )


async def _quiet(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=dict(env),
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")
