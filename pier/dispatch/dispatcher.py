"""The dispatcher: accepts jobs, puts them in the queue, runs the ones this process claims, and
records how they end.

Everything accepted is in the store before anyone hears of it, and the store decides who runs a
job (see `pier/store/jobs.py`): a process that claims a job from the queue takes a lease on it in
the store, renews it while the job runs, and ends the job with a write that only applies while it
still holds it. So any number of API processes and workers can share one queue and one store.

With the in-process queue this process is the only one running jobs: at start, jobs still
`starting` are queued again in their original order, and ones that were `processing` when the
server stopped are failed with a reason. With a shared queue, jobs wait in the queue across
restarts, and the keeper (`keeper.py`) fails the running jobs of a process that went away once
their lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from pier.billing.ledger import Hold
from pier.billing.money import usd
from pier.billing.service import Billing
from pier.dispatch.elsewhere import Elsewhere
from pier.dispatch.gpus import GpuPlacer
from pier.dispatch.keeper import Keeper
from pier.dispatch.live import Live, end_metrics
from pier.dispatch.metering import FLUSH_INTERVAL, job_cost, meter
from pier.dispatch.pool import VersionPool
from pier.dispatch.recovery import recover
from pier.files import FileStore, InputFetcher
from pier.jobs import Kind, PredictionRecord, Status, job_pool, pool_key
from pier.logtail import LogTail
from pier.queue import Feed, JobQueue, open_feed, open_queue
from pier.settings import Settings
from pier.store import Row, Store
from pier.store.cache import LRU
from pier.store.engine import StoreUnavailable
from pier.store.store import CACHE_ENTRIES, prediction_insert
from pier.util import utcnow

log = logging.getLogger(__name__)

STORE_RECHECK = 1.0  # seconds between store reads while waiting for a job run elsewhere
FINAL_WRITE_RETRY = 1.0  # seconds between tries of a job's last write during an outage


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        files: FileStore,
        fetcher: InputFetcher,
        base_url: str,
        *,
        kind: str = "serve",
        slots: int | None = None,
        gpus: list[str] | None = None,
        models: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.files = files
        self.fetcher = fetcher
        self.base_url = base_url
        self.kind = kind
        self.slots = settings.workers if slots is None else slots
        self.gpus = gpus
        self.gpu_placer = GpuPlacer(gpus) if gpus else None
        self.models = models  # the models this process runs ("owner/name"); None: all
        self.process_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.scratch_root = settings.data_dir / "tmp"
        self.queue: JobQueue = open_queue(settings.queue, settings.lease_seconds)
        self.feed: Feed = open_feed(settings.queue)
        self.live: dict[str, Live] = {}
        self.pools: dict[str, VersionPool] = {}
        self.listeners: list[Callable[[Live], None]] = []
        # The `completed` webhook of a prediction that ends, written with its final state.
        self.completed_webhook: Callable[[PredictionRecord], Row | None] = lambda row: None
        self.keeper = Keeper(self)
        self.billing = Billing(settings, store, settings.gpu_hardware if gpus else "cpu")
        self._waiters: dict[str, set[asyncio.Event]] = {}
        # Where jobs stand that this process does not hold (the shared queue and the store).
        self.elsewhere = Elsewhere(self.queue, store)
        # "owner/name" of trainings' destination models by id, for what renders a training
        # without the store at hand (webhooks); filled before a training is rendered.
        self._destinations: LRU[str, str] = LRU(CACHE_ENTRIES)
        self._flusher: asyncio.Task[None] | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    @property
    def runs_jobs(self) -> bool:
        return self.slots > 0

    def serves(self, model: str) -> bool:
        return self.runs_jobs and (self.models is None or model in self.models)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await self.queue.start()
        await self.feed.start(self._on_feed)
        await recover(self)
        self._flusher = asyncio.create_task(self._flush_forever())
        await self.keeper.start()

    async def stop(self) -> None:
        await self.keeper.stop()
        if self._flusher:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()
        await asyncio.gather(*(pool.stop() for pool in self.pools.values()))
        self.pools.clear()
        await self.feed.close()
        await self.queue.close()

    async def fail_stored(self, row: PredictionRecord, **fields: Any) -> None:
        """End a prediction that is only in the store, with its `completed` webhook."""
        await self.know_destination(row)
        row.update(fields)  # type: ignore[typeddict-item]
        await self.store.finish_prediction(row["id"], fields, [], self.completed_webhook(row))
        await self.billing.settle(row["id"])
        await self.feed.publish("done", row["id"])

    # -- accepting ---------------------------------------------------------------------------
    async def submit(
        self, row: PredictionRecord, version: Row, hold: Hold | None = None
    ) -> Live | None:
        """Record a new job and queue it; returns once the record is durable.

        In process, the job is queued while its insert commits (every later write of it is
        applied after the insert), so the model may start at once; the caller answers only after
        this returns, so nobody hears of the job before it is stored. With a shared queue the
        record comes first (workers elsewhere read it), and if the queue cannot take the job the
        record is taken back: nothing is accepted half-way. Returns the live job when this
        process keeps it; with a shared queue, whoever claims it does.

        A job with a credit `hold` is recorded in the same transaction as its hold, before it is
        queued: it raises InsufficientCredit, having recorded nothing, when the account cannot
        pay.
        """
        await self.know_destination(row)
        if hold is not None:
            await self.billing.record_with_hold(hold, prediction_insert(row))
            written: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            written.set_result(1)
        else:
            written = self.store.queue_prediction_insert(row)
        if self.queue.record_first:
            await written
            try:
                await self.queue.put(job_pool(row), row["id"], row.get("lane") or 0)
            except BaseException:
                await self.store.delete_prediction(row["id"], row["model_id"])
                raise
            self.pool_for(version, Kind(row["kind"]))
            return None
        live = Live(row=row, version=version, recorded=written)
        if hold is not None:
            live.price, live.held = await self.billing.price(row["model_id"]), hold.amount
        await self._enqueue(live)
        try:
            await written
        except BaseException:
            live.cancel_requested = True
            await self.queue.remove(live.pool, live.id)
            self.live.pop(live.id, None)
            raise
        return live

    async def _enqueue(self, live: Live) -> None:
        live.logs = LogTail(self.settings.max_log_bytes, live.row.get("logs") or "")
        self.live[live.id] = live
        self.pool_for(live.version, Kind(live.row["kind"]))
        try:
            await self.queue.put(live.pool, live.id, live.row.get("lane") or 0)
        except BaseException:
            self.live.pop(live.id, None)
            raise
        self.notify(live)

    async def free_idle_gpus(self, asking: object, need: int) -> bool:
        """Stop idle GPU processes of other versions until `need` GPUs are free for `asking`;
        whether any came free."""
        freed = False
        for pool in list(self.pools.values()):
            if self.gpu_placer is None or len(self.gpu_placer.free()) >= need:
                break
            if pool is not asking:
                freed = await pool.give_back_gpus() or freed
        return freed

    def pool_for(self, version: Row, kind: Kind = Kind.PREDICTION) -> VersionPool | None:
        """The pool that runs a version's jobs of one kind here; None if this process runs no
        jobs of it."""
        key = pool_key(str(version["id"]), kind)
        pool = self.pools.get(key)
        if pool is None and self.runs_jobs:
            pool = self.pools[key] = VersionPool(self, version, kind)
        return pool

    async def adopt(self, job_id: str, version: Row) -> Live | None:
        """A job claimed from the queue that another process accepted: take its lease and make it
        live here; None when it no longer needs running (or someone else holds it)."""
        row = await self.store.get_prediction(job_id)
        if row is None or row["status"] != Status.STARTING.value:
            return None
        if row.get("cancel_requested_at") is not None:
            await self.cancel_stored(row)
            return None
        now = utcnow()
        if not await self.store.take_lease(job_id, self.process_id, now + self.lease, now):
            return None
        await self.know_destination(row)
        row.update({"worker_id": self.process_id, "lease_expires_at": now + self.lease})
        live = Live(row=row, version=version)
        paid = await self.billing.running_price(job_id, row["model_id"])
        if paid is not None:
            live.price, live.held = paid
        live.logs = LogTail(self.settings.max_log_bytes, row.get("logs") or "")
        self.live[job_id] = live
        self.notify(live)
        return live

    # -- canceling and waiting ---------------------------------------------------------------
    async def cancel(self, live: Live) -> None:
        if live.status.terminal:
            return
        live.cancel_requested = True
        pool = self.pools.get(live.pool)
        running = pool.running.get(live.id) if pool is not None else None
        if live.status is Status.STARTING:
            await self.queue.remove(live.pool, live.id)
            await self.finish(live, Status.CANCELED)
        elif running is not None:
            await running[1].cancel(live.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(live.done.wait(), self.settings.cancel_grace + 2)

    async def cancel_stored(self, row: PredictionRecord) -> PredictionRecord:
        """Cancel a job this process does not run: at once if nobody has taken it yet, else by
        telling the process that runs it. Returns the record as it then stands."""
        job_id = row["id"]
        if Status(row["status"]).terminal:
            return row
        await self.know_destination(row)
        await self.store.request_cancel(job_id, utcnow())
        if row["status"] == Status.STARTING.value and row.get("worker_id") is None:
            now = utcnow()
            fields: dict[str, Any] = {
                "status": Status.CANCELED.value,
                "completed_at": now,
                "started_at": now,
                "secret_input": None,
                "metrics": end_metrics(row, now, Status.CANCELED),
            }
            canceled = cast("PredictionRecord", {**row, **fields})
            if await self.store.cancel_waiting(job_id, fields, self.completed_webhook(canceled)):
                await self.billing.settle(job_id)
                await self.queue.remove(job_pool(row), job_id)
                await self.feed.publish("done", job_id)
                return canceled
        await self.feed.publish("cancel", job_id)
        ended = await self.wait_stored(job_id, self.settings.cancel_grace + 2)
        return ended or row

    async def know_destination(self, row: PredictionRecord) -> str | None:
        """The "owner/name" of a training's destination model (None for a prediction, or a
        model that is gone), remembered for `destination_name`."""
        model_id = row.get("destination")
        if not model_id:
            return None
        name = self._destinations.get(model_id)
        if name is None:
            model = await self.store.get_model_by_id(model_id)
            if model is None:
                return None
            name = f"{model['owner']}/{model['name']}"
            self._destinations.put(model_id, name)
        return name

    def destination_name(self, row: PredictionRecord) -> str | None:
        """What `know_destination` found for this job's destination, without the store."""
        model_id = row.get("destination")
        return self._destinations.get(model_id) if model_id else None

    async def wait(self, live: Live, timeout: float) -> bool:
        if live.done.is_set():
            return True
        try:
            async with asyncio.timeout(timeout):  # no task per wait, unlike wait_for
                await live.done.wait()
        except TimeoutError:
            return False
        return True

    async def wait_stored(self, job_id: str, timeout: float) -> PredictionRecord | None:
        """Wait for a job run by any process to end; its record, ended or as it last stood."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        event = asyncio.Event()
        self._waiters.setdefault(job_id, set()).add(event)
        try:
            while True:
                row = await self.store.get_prediction(job_id)
                left = deadline - loop.time()
                if row is None or Status(row["status"]).terminal or left <= 0:
                    return row
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(left, STORE_RECHECK))
                event.clear()
        finally:
            waiting = self._waiters.get(job_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[job_id]

    def _on_feed(self, kind: str, job_id: str) -> None:
        if kind == "done":
            for event in self._waiters.get(job_id, ()):
                event.set()
        elif kind == "cancel":
            live = self.live.get(job_id)
            if live is not None and not live.status.terminal:
                asyncio.get_running_loop().create_task(self.cancel(live))

    async def queue_info(self, live: Live) -> dict[str, Any] | None:
        if live.status is not Status.STARTING:
            return None
        pool = self.pools.get(live.pool)
        if pool is None:
            return await self.elsewhere.queue_info(live.row)
        return await pool.queue_info(live)

    # -- recording ---------------------------------------------------------------------------
    def notify(self, live: Live) -> None:
        for listener in self.listeners:
            listener(live)

    async def finish(
        self,
        live: Live,
        status: Status,
        *,
        output: Any = None,
        error: str | None = None,
        metrics: dict[str, Any] | None = None,
        version: Row | None = None,
    ) -> None:
        """End a job: its final record, output files, `completed` webhook and (a training that
        succeeded) the `version` it made are written in one transaction."""
        if live.status.terminal:
            return
        if live.stop_reason is not None and status is Status.CANCELED:
            status, error = Status.FAILED, live.stop_reason
        now = utcnow()
        merged = end_metrics(live.row, now, status)
        merged.update(metrics or {})
        if live.setup_time is not None:
            merged["setup_time"] = round(live.setup_time, 6)
        if status is not Status.SUCCEEDED:
            merged.setdefault("predict_time", 0.0)
        merged["cost_usd"] = usd(job_cost(live, status, merged, output, now))
        merged["hardware"] = live.price.hardware if live.price else self.billing.hardware
        live.move_to(
            status,
            output=output,
            error=error,
            completed_at=now,
            metrics=merged,
            progress=_final_progress(live.row.get("progress"), status),
        )
        if live.row.get("started_at") is None:
            live.set(started_at=now)
        live.sync_logs()
        if live.row.get("secret_input") is not None:  # kept no longer than the prediction needs
            live.set(secret_input=None)
        file_rows, live.file_rows = live.file_rows, []
        webhook = self.completed_webhook(live.row)
        fields = live.take_dirty()
        won = await self._final_write(live.id, fields, file_rows, webhook, version)
        if version is not None:
            self.store.forget_models()  # the destination's latest version changed
        self.live.pop(live.id, None)
        if not won:  # another process ended it first (its lease ran out): the store says how
            log.warning("prediction %s was ended elsewhere; this result is dropped", live.id)
            stored = await self.store.get_prediction(live.id)
            if stored is not None:
                live.row.update(stored)
        if live.held:  # settled before anyone hears of the end, so they see the money right
            try:
                await self.billing.settle(live.id)
            except Exception as exc:  # the keeper's sweep settles it later
                log.warning("could not settle the credit hold of %s now: %s", live.id, exc)
        live.done.set()
        self.notify(live)
        await self.feed.publish("done", live.id)

    async def put_back(self, live: Live) -> None:
        """A background job that gave way to a person's goes back to wait in its lane, to run
        again from the start: what it logged or made so far is dropped."""
        self.live.pop(live.id, None)
        fields: dict[str, Any] = {
            "status": Status.STARTING.value,
            "started_at": None,
            "worker_id": None,
            "lease_expires_at": None,
            "logs": "",
            "output": None,
            "progress": None,
            "metrics": {},
        }
        live.dirty.clear()
        live.file_rows = []
        live.row.update(fields)  # type: ignore[typeddict-item]
        await self.store.update_prediction(live.id, **fields)
        await self.queue.put(live.pool, live.id, live.row.get("lane") or 0)
        self.notify(live)

    async def _final_write(
        self,
        job_id: str,
        fields: dict[str, Any],
        file_rows: list[Row],
        webhook: Row | None,
        version: Row | None,
    ) -> bool:
        """The job's last write; while the store is unreachable it is tried again (the result
        is kept, and the lease, renewed meanwhile by the keeper, keeps the job ours)."""
        while True:
            try:
                return await self.store.finish_job(
                    job_id, self.process_id, fields, file_rows, webhook, version
                )
            except StoreUnavailable as exc:
                log.warning("could not record the end of %s (%s); trying again", job_id, exc)
                await asyncio.sleep(FINAL_WRITE_RETRY)

    async def flush(self) -> None:
        for live in list(self.live.values()):
            if live.sync_logs():
                self.notify(live)
        updates = [
            (live.id, live.take_dirty())
            for live in list(self.live.values())
            if live.dirty and not live.status.terminal
        ]
        if updates:
            await self.store.update_predictions(updates)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                await self.flush()
            except Exception:  # keep flushing; the final write carries everything anyway
                log.exception("flushing prediction state failed")
            try:
                await meter(self)
            except Exception as exc:  # an outage: the next round looks again
                log.warning("extending credit holds failed: %s", exc)


def _final_progress(progress: dict[str, Any] | None, status: Status) -> dict[str, Any] | None:
    if status is Status.SUCCEEDED and progress:
        return {**progress, "percent": 100.0, "current": progress["total"]}
    return progress
