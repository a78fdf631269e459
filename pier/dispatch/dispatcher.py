"""The dispatcher: accepts predictions, queues them per version, and records how they end.

Everything accepted is in the store before it is queued, so a restart loses nothing: at start,
predictions still `starting` are queued again in their original order, and ones that were
`processing` when the server stopped are failed with a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from pier.dispatch.live import Live
from pier.dispatch.pool import VersionPool
from pier.files import FileStore, InputFetcher
from pier.jobs import Status
from pier.logtail import LogTail
from pier.queue import JobQueue, open_queue
from pier.settings import Settings
from pier.store import Row, Store
from pier.util import utcnow

log = logging.getLogger(__name__)

INTERRUPTED = "Pier stopped while this prediction was running, so it did not finish. Run it again."
FLUSH_INTERVAL = 0.5


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        files: FileStore,
        fetcher: InputFetcher,
        base_url: str,
    ) -> None:
        self.settings = settings
        self.store = store
        self.files = files
        self.fetcher = fetcher
        self.base_url = base_url
        self.scratch_root = settings.data_dir / "tmp"
        self.queue: JobQueue = open_queue(settings.queue)
        self.live: dict[str, Live] = {}
        self.pools: dict[str, VersionPool] = {}
        self.listeners: list[Callable[[Live], None]] = []
        # The `completed` webhook of a prediction that ends, written with its final state.
        self.completed_webhook: Callable[[Row], Row | None] = lambda row: None
        self._flusher: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await self.queue.start()
        await self.recover()
        self._flusher = asyncio.create_task(self._flush_forever())

    async def stop(self) -> None:
        if self._flusher:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()
        await asyncio.gather(*(pool.stop() for pool in self.pools.values()))
        self.pools.clear()
        await self.queue.close()

    async def recover(self) -> None:
        now = utcnow()
        # Secrets of ended predictions go with their final write; earlier versions kept them.
        await self.store.forget_secrets(*(status.value for status in Status if status.terminal))
        for row in await self.store.predictions_with_status(Status.PROCESSING.value):
            metrics = dict(row["metrics"] or {})
            metrics["total_time"] = round((now - row["created_at"]).total_seconds(), 6)
            await self._fail_stored(
                row,
                status=Status.FAILED.value,
                error=INTERRUPTED,
                completed_at=now,
                metrics=metrics,
                secret_input=None,
            )
        versions = {(v["model_id"], v["id"]): v for v in await self.store.all_versions()}
        for row in await self.store.predictions_with_status(Status.STARTING.value):
            version = versions.get((row["model_id"], row["version"]))
            if version is None:
                await self._fail_stored(
                    row,
                    status=Status.FAILED.value,
                    completed_at=now,
                    error="The model version of this prediction no longer exists.",
                    secret_input=None,
                )
                continue
            await self._enqueue(Live(row=row, version=version))

    async def _fail_stored(self, row: Row, **fields: Any) -> None:
        """End a prediction that is only in the store, with its `completed` webhook."""
        row.update(fields)
        await self.store.finish_prediction(row["id"], fields, [], self.completed_webhook(row))

    # -- accepting and canceling -------------------------------------------------------------
    async def submit(self, row: Row, version: Row) -> Live:
        """Record a new prediction and queue it; returns once the record is durable.

        The insert is queued first and every later write of this prediction is applied after it,
        so the model may start while the insert commits; nobody hears of the prediction (the
        caller answers only after this returns) until it is in the store.
        """
        written = self.store.queue_prediction_insert(row)
        live = Live(row=row, version=version)
        if self.queue.record_first:  # workers elsewhere read the record: it must exist first
            await written
            try:
                await self._enqueue(live)
            except BaseException:  # not queued: not accepted either, so no record of it stays
                await self.store.delete_prediction(live.id, live.row["model_id"])
                raise
            return live
        await self._enqueue(live)
        try:
            await written
        except BaseException:
            live.cancel_requested = True
            await self.queue.remove(str(version["id"]), live.id)
            self.live.pop(live.id, None)
            raise
        return live

    async def _enqueue(self, live: Live) -> None:
        live.logs = LogTail(self.settings.max_log_bytes, live.row.get("logs") or "")
        self.live[live.id] = live
        self.pool_for(live.version)  # its slots claim from the queue
        try:
            await self.queue.put(str(live.version["id"]), live.id)
        except BaseException:
            self.live.pop(live.id, None)
            raise
        self.notify(live)

    def pool_for(self, version: Row) -> VersionPool:
        key = version["id"]
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = VersionPool(self, version)
        return pool

    async def cancel(self, live: Live) -> None:
        if live.status.terminal:
            return
        live.cancel_requested = True
        pool = self.pool_for(live.version)
        running = pool.running.get(live.id)
        if live.status is Status.STARTING:
            await self.queue.remove(pool.key, live.id)
            await self.finish(live, Status.CANCELED)
        elif running is not None:
            await running[1].cancel(live.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(live.done.wait(), self.settings.cancel_grace + 2)

    async def wait(self, live: Live, timeout: float) -> bool:
        try:
            await asyncio.wait_for(live.done.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def queue_info(self, live: Live) -> dict[str, Any] | None:
        if live.status is not Status.STARTING:
            return None
        return await self.pool_for(live.version).queue_info(live)

    # -- recording ---------------------------------------------------------------------------
    def notify(self, live: Live) -> None:
        for listener in self.listeners:
            listener(live)

    async def persist(self, live: Live) -> None:
        changed = live.take_dirty()
        if changed:
            await self.store.update_prediction(live.id, **changed)

    async def finish(
        self,
        live: Live,
        status: Status,
        *,
        output: Any = None,
        error: str | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        if live.status.terminal:
            return
        now = utcnow()
        merged = dict(live.row.get("metrics") or {})
        merged.update(metrics or {})
        created = live.row["created_at"]
        started = live.row.get("started_at")
        merged["total_time"] = round((now - created).total_seconds(), 6)
        merged["queue_time"] = round(((started or now) - created).total_seconds(), 6)
        if live.setup_time is not None:
            merged["setup_time"] = round(live.setup_time, 6)
        if status is not Status.SUCCEEDED:
            merged.setdefault("predict_time", 0.0)
        live.move_to(
            status,
            output=output,
            error=error,
            completed_at=now,
            metrics=merged,
            progress=_final_progress(live.row.get("progress"), status),
        )
        if started is None:
            live.set(started_at=now)
        live.sync_logs()
        if live.row.get("secret_input") is not None:  # kept no longer than the prediction needs
            live.set(secret_input=None)
        file_rows, live.file_rows = live.file_rows, []
        webhook = self.completed_webhook(live.row)
        await self.store.finish_prediction(live.id, live.take_dirty(), file_rows, webhook)
        self.live.pop(live.id, None)
        live.done.set()
        self.notify(live)

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


def _final_progress(progress: dict[str, Any] | None, status: Status) -> dict[str, Any] | None:
    if status is Status.SUCCEEDED and progress:
        return {**progress, "percent": 100.0, "current": progress["total"]}
    return progress
