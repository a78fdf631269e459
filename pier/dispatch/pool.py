"""One version's queue and its model processes: FIFO order, N workers, cancel, timeouts.

The pool is made of parts: this module claims jobs and starts model processes; GPU placement
is in poolgpus.py, deployments' floor and cap in poolfloor.py, and running the jobs a slot
took in execute.py (their shared state is declared in poolstate.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pier.blobs.archive import ensure_version_dir
from pier.dispatch.estimate import Report, wait_estimate
from pier.dispatch.execute import Execution
from pier.dispatch.gpus import visible_devices
from pier.dispatch.live import Live
from pier.dispatch.poolfloor import DeploymentLimits
from pier.dispatch.poolgpus import GpuPlacement
from pier.dispatch.weights import weights_env
from pier.envs import Env, EnvConfig, for_version
from pier.files import scratch_dir
from pier.jobs import Kind, Phase, Status, pool_key
from pier.queue import Claim, QueueUnavailable
from pier.runner.worker import Worker
from pier.serving import Batch, Serving, ServingError, read_serving

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher

log = logging.getLogger(__name__)

CLAIM_WAIT = 5.0  # seconds a claim blocks before it is made again
RECONNECT_WAIT = 1.0  # seconds between claims while the queue is unreachable
STOP_RECANCEL = 1.0  # seconds a stopping slot has to end before it is canceled again
BUILDING = "building the environment"  # the booting step shown while one is built


def file_fields(schema: dict[str, Any], component: str = "Input") -> dict[str, bool]:
    """Input names that take files, mapped to whether they take a list of them (`component`:
    "Input" for predictions, "TrainingInput" for trainings)."""
    props = schema.get("components", {}).get("schemas", {}).get(component, {}).get("properties", {})
    found: dict[str, bool] = {}
    for name, prop in props.items():
        if prop.get("format") == "uri":
            found[name] = False
        elif prop.get("type") == "array" and prop.get("items", {}).get("format") == "uri":
            found[name] = True
    return found


class VersionPool(GpuPlacement, DeploymentLimits, Execution):
    """The jobs of one kind of one version: its predictions, run by predict(), or its trainings,
    run by train() in model processes started in train mode, a fresh one for each training."""

    def __init__(
        self, dispatcher: Dispatcher, version: dict[str, Any], kind: Kind = Kind.PREDICTION
    ) -> None:
        self.dispatcher = dispatcher
        self.version = version
        self.kind = kind
        settings = dispatcher.settings
        self.queue = dispatcher.queue
        self.key = pool_key(str(version["id"]), kind)
        self.running: dict[str, tuple[Live, Worker]] = {}
        self.busy = 0  # slots holding a prediction, booting or running
        self.started: dict[str, float] = {}  # running prediction id -> monotonic start
        # running prediction id -> its progress reports, (seconds after its start, percent
        # done): their pace says when it will end (see estimate.py)
        self.paced: dict[str, list[Report]] = {}
        # One model process per slot; on a GPU worker, up to one per GPU, each placed on GPUs
        # of its own when it starts (pier/dispatch/gpus.py).
        count = len(dispatcher.gpus) if dispatcher.gpus else max(1, dispatcher.slots)
        self.workers = [
            Worker(
                Path(version["path"]),
                version["train_ref" if kind is Kind.TRAINING else "predict_ref"],
                mode=kind.mode,
                env=dict(version.get("environment") or {}),
                setup_retry_after=settings.setup_retry_after,
                cancel_grace=settings.cancel_grace,
                max_log_bytes=settings.max_log_bytes,
            )
            for _ in range(count)
        ]
        self.gpus_needed: int | None = None  # per process, read from the version's directory
        self.model = str(version["model_id"])  # "owner/name" once a job of it ran here
        self._directory: Path | None = None
        self._directory_lock = asyncio.Lock()
        self._env: Env | None = None  # held (so never evicted) until the pool stops
        self._env_lock = asyncio.Lock()
        self.step: str | None = None  # what booting is busy with, when it is known
        self.average_time: float | None = None
        # How the version wants serving, read from its directory when the first job comes:
        # `concurrency` lanes per model process, or batches.
        # (A training runs alone in its process.)
        self.serving: Serving | None = Serving() if kind is Kind.TRAINING else None
        self._retiring: set[asyncio.Future[None]] = set()  # training processes being stopped
        self.batch: Batch | None = None
        # What deployments that name this version ask (floors.py): `floor` processes kept
        # loaded with no job, at most `cap` of them running jobs at once.
        self.floor = 0
        self.cap = len(self.workers)
        self._cap_changed = asyncio.Event()
        self._parked: dict[int, int] = {}  # id(worker) -> its lanes waiting beyond the cap
        self._prepared: set[int] = set()  # id(worker) of those given directory and environment
        self._prepare_lock = asyncio.Lock()
        self._warming: asyncio.Task[None] | None = None
        self._warm_error: str | None = None
        self.tasks = [asyncio.create_task(self._slot(w)) for w in self.workers]
        component = "TrainingInput" if kind is Kind.TRAINING else "Input"
        self.file_fields = file_fields(version["openapi_schema"], component)

    # -- the queue ---------------------------------------------------------------------------
    async def queue_info(self, live: Live) -> dict[str, Any]:
        if live.phase is Phase.BOOTING:
            info: dict[str, Any] = {
                "position": 0,
                "ahead": 0,
                "phase": Phase.BOOTING.value,
                "estimated_wait": None,
            }
            if self.step:
                info["step"] = self.step
            return info
        index = await self.queue.position(self.key, live.id) or 0
        ahead = index + self.busy
        wait = await self._wait(index, sum(w.concurrency for w in self.workers[: self.cap]))
        return {
            "position": index + 1,
            "ahead": ahead,
            "phase": live.phase.value,
            "estimated_wait": wait,
        }

    async def _wait(self, index: int, slots: int) -> float | None:
        """Seconds until a job `index` places back starts (see `estimate.py`)."""
        now = time.monotonic()
        running = []
        for job_id, started in list(self.started.items()):
            paced = self.paced.get(job_id)
            running.append((now - started, paced))
        typical = self.average_time
        if typical is None:
            typical = await self.dispatcher.elsewhere.typical_run_time(self.key)
        return wait_estimate(index, running, max(0, self.busy - len(running)), slots, typical)

    async def _next(self, consumer: str) -> tuple[Live, Claim]:
        """Claim the next job of this version that still needs running here. The slot counts
        as busy from the moment a claim arrives (the caller makes it idle again)."""
        while True:
            try:
                claim = await self.queue.claim([self.key], consumer, CLAIM_WAIT)
            except QueueUnavailable as exc:
                log.warning("%s; trying again in %.0f s", exc, RECONNECT_WAIT)
                await asyncio.sleep(RECONNECT_WAIT)
                continue
            if claim is None:
                continue
            self.busy += 1
            live = await self._take(claim)
            if live is not None:
                return live, claim
            self.busy -= 1

    async def _take(self, claim: Claim) -> Live | None:
        live = self.dispatcher.live.get(claim.job_id)
        if live is None:  # accepted by another process: take it over from the store
            try:
                live = await self.dispatcher.adopt(claim.job_id, self.version)
            except Exception:  # the store is away: the delivery is reclaimed later
                log.exception("could not take job %s", claim.job_id)
                await asyncio.sleep(RECONNECT_WAIT)
                return None
            if live is None:
                await self._ack(claim)  # ended, or held by another process
                return None
        elif live.status is not Status.STARTING or live.claimed:
            await self._ack(claim)  # ended (canceled) while it waited, or a repeat
            return None
        live.claimed = True
        return live

    async def stop(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
        # Cancel until every slot has ended: on Python 3.11 a cancel that lands as a timeout
        # inside the Redis client expires (a blocking queue read) can be swallowed, and the
        # slot would go on claiming.
        pending = set(self.tasks)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=STOP_RECANCEL)
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        await asyncio.gather(*self._retiring, return_exceptions=True)
        placer = self.dispatcher.gpu_placer
        if placer is not None:
            for worker in self.workers:
                placer.release(worker)
        if self._env is not None:
            self._env.release()
            self._env = None

    # -- running -----------------------------------------------------------------------------
    async def _slot(self, worker: Worker) -> None:
        if not await self._fits_gpus(worker):
            return  # more processes than this worker's GPUs allow for this version
        workdir = scratch_dir(self.dispatcher.scratch_root)
        try:
            await self._serve(worker, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def _serve(self, worker: Worker, workdir: Path) -> None:
        consumer = f"{socket.gethostname()}-{os.getpid()}-{id(worker):x}"
        while True:
            await self._within_cap(worker)
            taken = [await self._next(consumer)]
            if self.batch is not None and worker.state.name == "READY":
                taken += await self._gather(consumer, self.batch)
            lives = [live for live, _ in taken]
            try:
                await self._execute(worker, lives, workdir)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a platform bug must not take the slot down
                log.exception("prediction %s failed inside Pier", lives[0].id)
                for live in lives:
                    if not live.status.terminal:
                        await self.dispatcher.finish(
                            live, Status.FAILED, error=f"Pier error: {exc}"
                        )
            finally:
                self.busy -= len(taken)
                for _, claim in taken:
                    await self._ack(claim)
                if self.kind is Kind.TRAINING:  # the next training gets a fresh process
                    await self._retire(worker)

    async def _retire(self, worker: Worker) -> None:
        """Stop a model process after its training; a stop of the pool meanwhile waits for it."""
        stopping = asyncio.ensure_future(worker.stop())
        self._retiring.add(stopping)
        stopping.add_done_callback(self._retiring.discard)
        await asyncio.shield(stopping)
        if self.dispatcher.gpu_placer is not None:
            self.dispatcher.gpu_placer.release(worker)

    async def _gather(self, consumer: str, batch: Batch) -> list[tuple[Live, Claim]]:
        """More jobs for the batch that starts with one already claimed: what waits, up to
        `max_size` in all, waiting at most `max_wait` for more to come."""
        taken: list[tuple[Live, Claim]] = []
        deadline = time.monotonic() + batch.max_wait
        while len(taken) < batch.max_size - 1:
            try:
                claim = await self.queue.claim(
                    [self.key], consumer, max(0.0, deadline - time.monotonic())
                )
            except QueueUnavailable:
                break
            if claim is None:
                break
            self.busy += 1
            live = await self._take(claim)
            if live is None:
                self.busy -= 1
            else:
                taken.append((live, claim))
        return taken

    def _configure(self, worker: Worker, directory: Path) -> None:
        """Read how the version wants serving (once), and give a new worker its lanes: one
        task per prediction it may run at once, each claiming its own jobs."""
        if self.serving is None:
            try:
                self.serving = read_serving(directory, self.version.get("environment"))
            except ServingError as exc:  # checked when it was registered: should not happen
                log.warning("version %s: %s; serving one prediction at a time", self.key, exc)
                self.serving = Serving()
            self.batch = self.serving.batch
        worker.concurrency = self.serving.concurrency
        for _ in range(worker.concurrency - 1):
            self.tasks.append(asyncio.create_task(self._slot(worker)))

    @property
    def loaded(self) -> int:
        """Model processes of this version that are up and ready."""
        return sum(1 for worker in self.workers if worker.state.name in ("READY", "BUSY"))

    async def _version_dir(self) -> Path:
        """The version's directory on this machine: where it was registered, or unpacked from
        its archive in the file store into the local cache (once per machine)."""
        async with self._directory_lock:
            if self._directory is None:
                registered = Path(self.version["path"])
                if registered.is_dir():
                    self._directory = registered
                else:
                    cache = self.dispatcher.settings.data_dir / "versions"
                    blobs = self.dispatcher.files.blobs
                    self._directory = await ensure_version_dir(blobs, self.version, cache)
            return self._directory

    async def _boot(self, worker: Worker, live: Live | None) -> bool:
        """Make a model process ready: the first time, its directory, serving, weights and
        environment; on a GPU worker, its GPUs; then setup. `live` is the job waiting for it
        (shown the build log); None starts it ahead of any job, and then only if the GPUs it
        needs are free now (False when they are not)."""
        async with self._prepare_lock:
            if id(worker) not in self._prepared:
                worker.model_dir = await self._version_dir()
                self._configure(worker, worker.model_dir)
                store, settings = self.dispatcher.store, self.dispatcher.settings
                blobs = self.dispatcher.files.blobs
                worker.env.update(await weights_env(store, settings, self.version, blobs))
                env = await self._environment(live)
                worker.python, worker.runner_path = env.python, env.runner_path
                worker.env.update(env.variables)
                self._prepared.add(id(worker))
        placer = self.dispatcher.gpu_placer
        if placer is not None and worker.state.name not in ("READY", "BUSY"):
            if live is not None:
                await self._place(worker, live)
            else:
                gpus = placer.place(worker, await self._gpu_need())
                if gpus is None:
                    return False
                worker.env.update(visible_devices(gpus))
        await worker.ensure_started()
        return True

    async def _environment(self, live: Live | None) -> Env:
        """The version's environment on this machine, built here the first time (its build
        log goes to the prediction that waits for it)."""
        async with self._env_lock:
            if self._env is None:

                def on_log(text: str) -> None:
                    if live is None:  # started ahead of any job: nobody to show it to
                        return
                    if self.step != BUILDING:
                        self.step = BUILDING
                        self.dispatcher.notify(live)
                    self._on_log(live, text)

                config = EnvConfig.from_settings(self.dispatcher.settings)
                try:
                    self._env = await for_version(self.version.get("env"), config, on_log)
                finally:
                    self.step = None
            return self._env

    async def _ack(self, claim: Claim) -> None:
        try:
            await self.queue.ack(claim)
        except QueueUnavailable:  # the delivery is reclaimed later and found finished
            log.warning("could not acknowledge job %s: the queue is unreachable", claim.job_id)
