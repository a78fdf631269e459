"""A version pool's GPUs on a worker started with --gpus (see gpus.py for the placer)."""

from __future__ import annotations

import logging
from typing import Any

from pier.blobs import BlobsUnavailable
from pier.blobs.archive import ArchiveError
from pier.dispatch.gpus import GpuError, gpus_needed, memory_of, visible_devices
from pier.dispatch.live import Live
from pier.dispatch.poolstate import PoolState
from pier.runner.worker import Worker

log = logging.getLogger(__name__)


class GpuPlacement(PoolState):
    """Which GPUs each model process of the version gets, and giving them back."""

    async def _gpu_need(self) -> int:
        if self.gpus_needed is None:
            self.gpus_needed = gpus_needed(await self._version_dir())
        return self.gpus_needed

    async def _fits_gpus(self, worker: Worker) -> bool:
        """Whether this process may run at all: on a GPU worker a version runs at most as many
        processes as its GPU need allows (the first always runs, to report an impossible need)."""
        placer = self.dispatcher.gpu_placer
        if placer is None or worker is self.workers[0]:
            return True
        try:
            need = await self._gpu_need()
        except (GpuError, ArchiveError, BlobsUnavailable):
            return False
        return self.workers.index(worker) < placer.capacity(need)

    async def _place(self, worker: Worker, live: Live) -> None:
        """Give a starting process free GPUs (freeing idle ones of other versions, else
        waiting) and show it only those."""
        placer = self.dispatcher.gpu_placer
        assert placer is not None
        need = await self._gpu_need()
        while (gpus := placer.place(worker, need)) is None:
            if live.status.terminal:  # canceled while it waited
                raise GpuError("canceled while waiting for a free GPU")
            if not await self.dispatcher.free_idle_gpus(self, need):
                await placer.wait_released(timeout=5.0)
        worker.env.update(visible_devices(gpus))

    def placements(self, used: dict[int, int] | None) -> list[dict[str, Any]]:
        """Each running process of this version with its GPUs and their memory in use."""
        placer = self.dispatcher.gpu_placer
        out: list[dict[str, Any]] = []
        if placer is None:
            return out
        for worker in self.workers:
            pid = worker.pid
            if pid is None or worker.state.name not in ("READY", "BUSY"):
                continue
            mib = memory_of(pid, used) if used is not None else None
            out.append({"pid": pid, "gpus": placer.held_by(worker), "memory_mib": mib})
        return out

    async def give_back_gpus(self) -> bool:
        """Stop this version's idle GPU processes (none holds a job); whether any GPU came free."""
        placer = self.dispatcher.gpu_placer
        if placer is None or self.busy:
            return False
        freed = False
        for worker in self.workers[self.floor :]:  # those of the floor stay loaded
            if placer.held_by(worker) and worker.state.name in ("READY", "SETUP_FAILED", "DEFUNCT"):
                await worker.stop()
                freed = bool(placer.release(worker)) or freed
        return freed
