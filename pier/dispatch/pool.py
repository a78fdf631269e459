"""One version's queue and its model processes: FIFO order, N workers, cancel, timeouts."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pier.blobs import BlobsUnavailable
from pier.blobs.archive import ArchiveError, ensure_version_dir
from pier.dispatch.estimate import Report, record_progress, wait_estimate
from pier.dispatch.gpus import GpuError, gpus_needed, memory_of, visible_devices
from pier.dispatch.live import Live
from pier.dispatch.outputs import OutputSink
from pier.dispatch.training import TrainingError, new_version
from pier.dispatch.weights import weights_env
from pier.envs import Env, EnvConfig, EnvError, for_version
from pier.files import FileError, scratch_dir
from pier.jobs import Kind, Phase, Status, pool_key
from pier.queue import BACKGROUND_LANE, PEOPLE_LANES, Claim, QueueUnavailable
from pier.runner.errors import SetupFailed
from pier.runner.worker import PredictionEvents, PredictionRequest, PredictionResult, Worker
from pier.serving import Batch, Serving, ServingError, read_serving
from pier.util import utcnow

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher

log = logging.getLogger(__name__)

CLAIM_WAIT = 5.0  # seconds a claim blocks before it is made again
RECONNECT_WAIT = 1.0  # seconds between claims while the queue is unreachable
# The longest a large log's newest lines wait before readers of the prediction see them.
LOG_SYNC_DELAY = 0.05
# How often a running background job checks whether a person's job waits behind it.
GIVE_WAY_CHECK = 0.25
STOP_RECANCEL = 1.0  # seconds a stopping slot has to end before it is canceled again
BUILDING = "building the environment"  # the booting step shown while one is built


def _empty(folder: Path) -> None:
    """Remove what a prediction left in its slot's folder (cheap when it left nothing)."""
    for name in os.listdir(folder):
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            if os.listdir(path):
                shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _quiet(_text: str) -> None:
    return None


def _log_failed_write(written: asyncio.Future[int]) -> None:
    """A write nobody awaits: say if it failed (the job's later writes carry its fields)."""
    if not written.cancelled() and written.exception() is not None:
        log.warning("could not record that a job started: %s", written.exception())


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


class VersionPool:
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
            typical = await self.dispatcher.typical_run_time(self.key)
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

    # -- GPUs ------------------------------------------------------------------------------
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

    # -- deployments: a floor of loaded processes and a cap on running ones ----------------
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

    async def _execute(self, worker: Worker, lives: list[Live], workdir: Path) -> None:
        """Run claimed jobs: one, or a batch (the first boots the model when it must)."""
        lives = [one for one in lives if not one.status.terminal]
        if not lives:
            return
        live = lives[0]
        self.model = str(live.row.get("model") or self.model)
        booted_here = worker.state.name not in ("READY", "BUSY")
        shown: list[str] = []  # what the model printed during setup, shown as it came

        def show(text: str) -> None:
            shown.append(text)
            self._on_log(live, text)

        if booted_here:
            live.phase = Phase.BOOTING
            self.dispatcher.notify(live)
            worker.on_setup_log = show
        try:
            await self._boot(worker, live)
        except (SetupFailed, GpuError, ArchiveError, BlobsUnavailable, EnvError) as exc:
            if not live.status.terminal:
                logs, sent = getattr(exc, "logs", None) or "", "".join(shown)
                live.add_logs(logs[len(sent) :] if sent and logs.startswith(sent) else logs)
                await self.dispatcher.finish(live, Status.FAILED, error=f"Setup failed: {exc}")
            return
        finally:
            if booted_here:
                worker.on_setup_log = _quiet
        ready = []
        for one in lives:
            if one.status.terminal:  # canceled while the model was booting
                continue
            if one.recorded is not None:  # the create's insert must have committed
                try:
                    await one.recorded
                except Exception:  # the create failed (and said so): nothing to run
                    continue
            ready.append(one)
        if booted_here:  # setup time counts only for the prediction that waited for it
            live.setup_time = worker.setup_time
        now = utcnow()
        for one in ready:
            one.move_to(
                Status.PROCESSING,
                started_at=now,
                worker_id=self.dispatcher.process_id,
                lease_expires_at=now + self.dispatcher.lease,
            )
            self.running[one.id] = (one, worker)
            self.started[one.id] = time.monotonic()
            self.dispatcher.notify(one)  # listeners (webhook `start`, streams) see it start
            # The `processing` write is queued, not awaited: the model starts at once, and the
            # final write, queued later, is applied after it.
            written = self.dispatcher.store.queue_prediction_update(one.id, **one.take_dirty())
            written.add_done_callback(_log_failed_write)
        try:
            if self.batch is not None:
                await self._predict_batch(worker, self.batch, ready, workdir)
            elif ready:
                await self._predict(worker, ready[0], workdir)
        finally:
            for one in ready:
                self.running.pop(one.id, None)
                self.started.pop(one.id, None)
                self.paced.pop(one.id, None)
            # Only fetched inputs (in/), outputs written as files (out/) and batch items use
            # the folder: one stat instead of reading a directory after most predictions.
            if self.file_fields or self.batch is not None or os.path.lexists(workdir / "out"):
                _empty(workdir)

    async def _prepare(
        self, live: Live, workdir: Path
    ) -> tuple[PredictionRequest, OutputSink] | None:
        """What the model needs to run a prediction (its input files fetched into `workdir`),
        or None when it ended here instead (an input that cannot be fetched, a cancel)."""
        try:
            inputs = await self._fetch_inputs(live, workdir)
        except FileError as exc:
            await self.dispatcher.finish(live, Status.FAILED, error=str(exc))
            return None
        if live.cancel_requested:
            await self.dispatcher.finish(live, Status.CANCELED)
            return None
        sink = OutputSink(
            live,
            self.dispatcher.files,
            self.dispatcher.base_url,
            lambda: self.dispatcher.notify(live),
        )
        events = PredictionEvents(
            on_log=lambda text: self._on_log(live, text),
            on_output=sink.on_output,
            on_output_kind=sink.on_output_kind,
            on_progress=lambda pct, cur, tot: self._on_progress(live, pct, cur, tot),
            on_metric=lambda name, value: live.row["metrics"].__setitem__(name, value),
        )
        request = PredictionRequest(
            live.id,
            inputs,
            workdir / "out",  # made by the runner when a model writes a file
            events,
            context={**(live.row.get("context") or {}), "id": live.id},
            keep_logs=False,
        )
        return request, sink

    async def _conclude(
        self, live: Live, sink: OutputSink, result: PredictionResult, elapsed: float
    ) -> None:
        output = await sink.final()
        status, error, version = Status(result.status), result.error, None
        metrics = dict(result.metrics or {})
        metrics.setdefault("predict_time", round(elapsed, 6))
        if self.kind is Kind.TRAINING and status is Status.SUCCEEDED:
            try:
                output, version = await new_version(self.dispatcher, live, output)
            except TrainingError as exc:
                status, error = Status.FAILED, str(exc)
        await self.dispatcher.finish(
            live, status, output=output, error=error, metrics=metrics, version=version
        )

    def _timed(self, elapsed: float) -> None:
        self.average_time = (
            elapsed if self.average_time is None else (0.8 * self.average_time + 0.2 * elapsed)
        )

    async def _predict(self, worker: Worker, live: Live, workdir: Path) -> None:
        prepared = await self._prepare(live, workdir)
        if prepared is None:
            return
        request, sink = prepared
        started = time.monotonic()
        watcher = None
        if live.row.get("lane") == BACKGROUND_LANE:
            watcher = asyncio.create_task(self._give_way(worker, live))
        try:
            result = await worker.predict(
                request.id,
                request.inputs,
                request.output_dir,
                request.events,
                timeout=self.dispatcher.settings.prediction_timeout,
                context=request.context,
                keep_logs=request.keep_logs,
            )
        finally:
            if watcher is not None:
                watcher.cancel()
        if live.preempted and result.status == Status.CANCELED.value:
            await self.dispatcher.put_back(live)
            return
        elapsed = time.monotonic() - started
        self._timed(elapsed)
        await self._conclude(live, sink, result, elapsed)

    async def _give_way(self, worker: Worker, live: Live) -> None:
        """While a background job (a first-start example) runs, watch for a person's job of
        this version waiting with no slot free: cancel the background one (it goes back to its
        lane and runs again later), so nobody's prediction waits behind an example."""
        while True:
            await asyncio.sleep(GIVE_WAY_CHECK)
            try:
                waiting = sum([await self.queue.depth(self.key, lane) for lane in PEOPLE_LANES])
            except QueueUnavailable:
                continue
            if waiting and not live.status.terminal and not live.cancel_requested:
                live.preempted = True
                log.info("background job %s gives way to a waiting prediction", live.id)
                await worker.cancel(live.id)
                return

    async def _predict_batch(
        self, worker: Worker, batch: Batch, lives: list[Live], workdir: Path
    ) -> None:
        """Run the predictions in one call of the model's batch method; each ends on its own."""
        prepared: list[tuple[Live, PredictionRequest, OutputSink]] = []
        for index, live in enumerate(lives):
            folder = workdir / f"item-{index}"  # its own input files and outputs
            folder.mkdir(exist_ok=True)
            found = await self._prepare(live, folder)
            if found is not None:
                prepared.append((live, *found))
        if not prepared:
            return
        started = time.monotonic()
        results = await worker.predict_batch(
            batch.method,
            [request for _, request, _ in prepared],
            timeout=self.dispatcher.settings.prediction_timeout,
        )
        elapsed = time.monotonic() - started
        self._timed(elapsed / len(prepared))
        await asyncio.gather(
            *(
                self._conclude(live, sink, result, elapsed)
                for (live, _, sink), result in zip(prepared, results, strict=True)
            )
        )

    async def _fetch_inputs(self, live: Live, workdir: Path) -> dict[str, Any]:
        inputs = dict(live.row["input"])
        inputs.update(live.row.get("secret_input") or {})
        if not self.file_fields:
            return inputs
        fetch_dir = workdir / "in"
        fetch_dir.mkdir(exist_ok=True)
        fetcher, account = self.dispatcher.fetcher, live.row["account_id"]
        for name, many in self.file_fields.items():
            value = inputs.get(name)
            if value is None:
                continue
            if many:
                inputs[name] = [
                    str(await fetcher.fetch(v, account, self._subdir(fetch_dir))) for v in value
                ]
            else:
                inputs[name] = str(await fetcher.fetch(value, account, self._subdir(fetch_dir)))
        return inputs

    @staticmethod
    def _subdir(root: Path) -> Path:
        # One folder per file keeps each input's own name without collisions.
        folder = root / str(len(list(root.iterdir())))
        folder.mkdir()
        return folder

    def _on_log(self, live: Live, text: str) -> None:
        if live.add_logs(text):
            self.dispatcher.notify(live)
        elif live.logs.changed and not live.logs_due:
            live.logs_due = True
            asyncio.get_running_loop().call_later(LOG_SYNC_DELAY, self._sync_logs, live)

    def _sync_logs(self, live: Live) -> None:
        live.logs_due = False
        if not live.status.terminal and live.sync_logs():
            self.dispatcher.notify(live)

    def _on_progress(self, live: Live, percent: float, current: int, total: int) -> None:
        live.set(progress={"percent": round(percent, 2), "current": current, "total": total})
        started = self.started.get(live.id)
        if started is not None:
            record_progress(self.paced.setdefault(live.id, []), time.monotonic() - started, percent)
        self.dispatcher.notify(live)
