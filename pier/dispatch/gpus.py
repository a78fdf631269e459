"""GPU placement for a worker started with `--gpus`: each model process gets GPUs of its own.

A version says how many GPUs one of its processes needs with `gpus: N` in pier.yaml; without
it, one (as a Cog model with `build.gpu: true` gets its machine's GPU; `gpus: 0` runs a model
on a GPU worker without any). A process is placed on that many free GPUs, the lowest ids
first, and sees only those (CUDA_VISIBLE_DEVICES); a version runs at most `len(gpus) // need`
processes. When too few GPUs are free, idle processes of other versions give theirs back;
failing that, the process waits until some are released.

`GpuPlacer` is pure bookkeeping (tested with made-up ids); `gpu_memory()` reads what each
process uses from `nvidia-smi`, and answers nothing where there is none.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

import yaml

NVIDIA_SMI_TIMEOUT = 5.0


class GpuError(ValueError):
    """A GPU need this worker can never meet, or a setting that makes no sense."""


class GpuPlacer:
    """Which model process holds which GPUs. An owner is any hashable (a Worker)."""

    def __init__(self, gpus: Iterable[str]) -> None:
        self.gpus = [str(g) for g in gpus]
        if len(set(self.gpus)) != len(self.gpus):
            raise GpuError(f"GPU ids must differ: {', '.join(self.gpus)}")
        self._held: dict[Hashable, list[str]] = {}
        self._released = asyncio.Event()

    def free(self) -> list[str]:
        taken = {gpu for gpus in self._held.values() for gpu in gpus}
        return [gpu for gpu in self.gpus if gpu not in taken]

    def held_by(self, owner: Hashable) -> list[str]:
        return list(self._held.get(owner, []))

    def owners(self) -> list[Hashable]:
        return list(self._held)

    def capacity(self, need: int) -> int:
        """How many processes that each need `need` GPUs fit on this worker at once."""
        if need <= 0:
            return 1
        return len(self.gpus) // need

    def place(self, owner: Hashable, need: int) -> list[str] | None:
        """The GPUs now held by `owner` (the ones it had, or `need` free ones), or None when not
        enough are free. GpuError when the worker has fewer than `need` GPUs at all."""
        if need > len(self.gpus):
            raise GpuError(
                f"this model needs {need} GPUs, but this worker has {len(self.gpus)} "
                f"({', '.join(self.gpus) or 'none'})"
            )
        if owner in self._held:
            return self.held_by(owner)
        if need <= 0:
            self._held[owner] = []
            return []
        free = self.free()
        if len(free) < need:
            return None
        self._held[owner] = free[:need]
        return self.held_by(owner)

    def release(self, owner: Hashable) -> list[str]:
        given = self._held.pop(owner, [])
        if given:
            self._released.set()
        return given

    async def wait_released(self, timeout: float | None = None) -> None:
        """Until some GPUs are released (or the timeout passes)."""
        self._released.clear()
        try:
            await asyncio.wait_for(self._released.wait(), timeout)
        except TimeoutError:
            pass


def visible_devices(gpus: list[str]) -> dict[str, str]:
    """The environment that shows a process only its GPUs (an empty list: none at all)."""
    return {"CUDA_VISIBLE_DEVICES": ",".join(gpus)}


def _yaml(file: Path) -> dict[str, Any]:
    try:
        body = yaml.safe_load(file.read_text()) if file.is_file() else None
    except (OSError, yaml.YAMLError):
        return {}
    return body if isinstance(body, dict) else {}


def gpus_needed(model_dir: Path) -> int:
    """How many GPUs one process of the model in `model_dir` needs (see the module text)."""
    wanted = _yaml(model_dir / "pier.yaml").get("gpus")
    if wanted is not None:
        if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 0:
            raise GpuError(f"pier.yaml: gpus must be a whole number ≥ 0, not {wanted!r}")
        return wanted
    return 1


def parse_compute_apps(text: str) -> dict[int, int]:
    """`nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits` output
    → MiB per pid (summed over the GPUs a process uses)."""
    used: dict[int, int] = {}
    for line in text.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        try:
            mib = int(float(parts[1]))
        except ValueError:
            continue  # "[N/A]" and the like
        used[int(parts[0])] = used.get(int(parts[0]), 0) + mib
    return used


def gpu_memory() -> dict[int, int] | None:
    """MiB of GPU memory per pid, or None where nvidia-smi is missing or fails."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        done = subprocess.run(
            [tool, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_compute_apps(done.stdout) if done.returncode == 0 else None


def memory_of(pid: int, used: dict[int, int]) -> int:
    """MiB used by a model process and the processes it started (its process group)."""
    total = 0
    for other, mib in used.items():
        try:
            group = os.getpgid(other)
        except OSError:
            group = None
        if other == pid or group == pid:
            total += mib
    return total
