"""Running a version pool's jobs in a model process: inputs in, events and outputs back, the
end recorded; one at a time, several at once, or in batches."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pier.blobs import BlobsUnavailable
from pier.blobs.archive import ArchiveError
from pier.dispatch.estimate import record_progress
from pier.dispatch.gpus import GpuError
from pier.dispatch.live import Live
from pier.dispatch.outputs import OutputSink
from pier.dispatch.poolstate import PoolState
from pier.dispatch.training import TrainingError, new_version
from pier.envs import EnvError
from pier.files import FileError
from pier.jobs import Kind, Phase, Status
from pier.queue import BACKGROUND_LANE, PEOPLE_LANES, QueueUnavailable
from pier.runner.calls import PredictionEvents, PredictionRequest, PredictionResult
from pier.runner.errors import SetupFailed
from pier.runner.worker import Worker
from pier.serving import Batch
from pier.util import utcnow

log = logging.getLogger(__name__)

# The longest a large log's newest lines wait before readers of the prediction see them.
LOG_SYNC_DELAY = 0.05
# How often a running background job checks whether a person's job waits behind it.
GIVE_WAY_CHECK = 0.25


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


class Execution(PoolState):
    """Runs the jobs a slot took, one by one or as a batch, and records how they end."""

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
