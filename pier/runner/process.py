"""Starting, signalling and describing the model's child process (parent side)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pier

PIER_ROOT = str(pathlib.Path(pier.__file__).resolve().parent.parent)


class LineProtocol(asyncio.Protocol):
    """Reads newline-terminated messages from the child and hands each line to `on_line`
    right in the data callback (no reader task between the socket and the Worker)."""

    def __init__(self, on_line: Callable[[bytes], None]) -> None:
        self.on_line = on_line
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._scanned = 0

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while True:
            end = buffer.find(b"\n", max(start, self._scanned))
            if end < 0:
                break
            self.on_line(bytes(buffer[start:end]))
            start = end + 1
            self._scanned = start
        if start:
            del buffer[:start]
        self._scanned = len(buffer)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class ChildProcess:
    proc: asyncio.subprocess.Process
    transport: asyncio.Transport
    protocol: LineProtocol
    log_fd: int  # our copy of the read end of the child's stdout/stderr pipe

    def read_leftover_logs(self) -> str:
        """What the child wrote but never forwarded (it died first). Only call this once the
        child has exited: while it runs, its own reader owns the pipe."""
        if self.log_fd < 0:
            return ""
        chunks = []
        try:
            while chunk := os.read(self.log_fd, 1 << 16):
                chunks.append(chunk)
                if sum(map(len, chunks)) > 1 << 20:
                    break
        except (BlockingIOError, OSError):
            pass
        finally:
            os.close(self.log_fd)
            self.log_fd = -1
        return b"".join(chunks).decode(errors="replace")

    def send(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, signum: int) -> bool:
        """Signal the model process itself (not its subprocesses)."""
        if self.proc.returncode is not None:
            return False
        try:
            os.kill(self.proc.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def kill_group(self) -> None:
        """SIGKILL the model process and everything it started (its own process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# What a model process may see of the server's environment: an allow-list, so the server's
# own secrets (its admin token, its database URL, cloud credentials) never reach model code.
# A model that needs more declares it in cog.yaml's `environment`, which is added on top.
PASSED_NAMES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ",
        "TMPDIR", "TEMP", "TMP", "PYTHONHOME", "PYTHONPATH", "PYTHONIOENCODING", "PYTHONUTF8",
        "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONNOUSERSITE", "PYTHONWARNINGS",
        "VIRTUAL_ENV", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
        "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "HF_HOME",
        "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TORCH_HOME",
        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS", "TORCH_NUM_THREADS",
    }
)  # fmt: skip
PASSED_PREFIXES = ("LC_", "CUDA_", "NVIDIA_", "ROCR_", "HIP_", "KMP_", "PYTORCH_")


def _passed(name: str) -> bool:
    return name in PASSED_NAMES or name.startswith(PASSED_PREFIXES)


def child_env(extra: Mapping[str, str] | None, runner_path: str | None = None) -> dict[str, str]:
    """The model process's environment: the allowed part of ours, then the model's own.

    `runner_path` is where the child imports Pier's runner from: Pier's own source root, or
    for a model in its own environment a directory holding only the runner (pier.envs)."""
    env = {name: value for name, value in os.environ.items() if _passed(name)}
    if runner_path is not None:  # a model environment: none of Pier's virtualenv leaks in
        env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    env["PYTHONUNBUFFERED"] = "1"
    # The runner must be importable in the child; the child takes this entry off sys.path
    # again before it imports the model.
    runner = runner_path or PIER_ROOT
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), runner) if p)
    env["PIER_RUNNER_PATH"] = runner
    return env


async def spawn_child(
    model_dir: pathlib.Path,
    ref: str,
    mode: str,
    env: Mapping[str, str] | None,
    on_line: Callable[[bytes], None],
    *,
    python: str | None = None,
    runner_path: str | None = None,
) -> ChildProcess:
    """Start `python -m pier.runner.child` in its own process group, connected by a socketpair.

    `python` is the model environment's interpreter (default: Pier's own)."""
    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = child_sock.fileno()
    log_read, log_write = os.pipe()  # the child's fds 1 and 2; it reads the other end itself
    os.set_blocking(log_read, False)
    try:
        proc = await asyncio.create_subprocess_exec(
            python or sys.executable,
            "-m",
            "pier.runner.child",
            "--fd",
            str(fd),
            "--model-dir",
            str(model_dir),
            "--ref",
            ref,
            "--mode",
            mode,
            "--log-fd",
            str(log_read),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_write,
            stderr=log_write,
            pass_fds=(fd, log_read),
            cwd=str(model_dir),
            env=child_env(env, runner_path),
            start_new_session=True,
        )
    except BaseException:
        parent_sock.close()
        os.close(log_read)
        raise
    finally:
        child_sock.close()
        os.close(log_write)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_unix_connection(
        lambda: LineProtocol(on_line), sock=parent_sock
    )
    return ChildProcess(proc, transport, protocol, log_read)


def describe_exit(returncode: int | None) -> str:
    """How the process ended, for error messages: "exited with code 3", "was killed by …"."""
    if returncode is None:
        return "stopped"
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if name == "SIGKILL":
        return "was killed by signal SIGKILL (out of memory?)"
    if name == "SIGSEGV":
        return "crashed with a segmentation fault (SIGSEGV)"
    if name in ("SIGBUS", "SIGABRT", "SIGFPE", "SIGILL"):
        return f"crashed with signal {name}"
    return f"was killed by signal {name}"
