"""What deployments ask of a version pool: a floor of loaded processes and a cap on running ones."""

from __future__ import annotations

import asyncio
import logging

from pier.dispatch.poolstate import PoolState
from pier.runner.worker import Worker

log = logging.getLogger(__name__)


class DeploymentLimits(PoolState):
    """The floor (min_instances) and cap (max_instances) of the version's model processes."""

    def set_limits(self, floor: int, cap: int | None, model: str | None = None) -> None:
        """Keep `floor` model processes loaded with no job waiting (deployments'
        min_instances) and let at most `cap` run jobs at once (their max_instances; None: one
        per slot). Both are bounded by this process's slots. Called every keeper round, so a
        process of the floor that crashed is started again."""
        cap = len(self.workers) if cap is None else max(1, min(cap, len(self.workers)))
        if cap != self.cap:
            self.cap = cap
            self._cap_changed.set()  # wakes the lanes waiting beyond the old cap
            self._cap_changed = asyncio.Event()
        self.floor = max(0, min(floor, cap))
        if model:
            self.model = model
        if self.floor and (self._warming is None or self._warming.done()):
            self._warming = asyncio.create_task(self._keep_warm())

    async def _keep_warm(self) -> None:
        """Start the processes of the floor that are not up (each after the one before)."""
        for worker in self.workers[: self.floor]:
            if worker.state.name in ("READY", "BUSY", "STARTING"):
                continue
            try:
                if not await self._fits_gpus(worker) or not await self._boot(worker, None):
                    return
            except Exception as exc:  # a failed setup, a missing GPU, the store away
                if str(exc) != self._warm_error:  # said once, not every round
                    log.warning("version %s: could not keep a process loaded: %s", self.key, exc)
                self._warm_error = str(exc)
                return
            self._warm_error = None

    async def _within_cap(self, worker: Worker) -> None:
        """Wait while this process is beyond the cap. Once every lane of it waits here (so it
        holds no job), its model process is stopped: it no longer counts as loaded."""
        index = self.workers.index(worker)
        if index < self.cap:
            return
        key = id(worker)
        self._parked[key] = self._parked.get(key, 0) + 1
        try:
            while index >= self.cap:
                idle = worker.state.name in ("READY", "SETUP_FAILED", "DEFUNCT")
                if self._parked[key] >= worker.concurrency and idle:
                    await worker.stop()
                    if self.dispatcher.gpu_placer is not None:
                        self.dispatcher.gpu_placer.release(worker)
                await self._cap_changed.wait()
        finally:
            self._parked[key] -= 1
