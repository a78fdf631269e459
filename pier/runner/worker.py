"""The parent side of a model process: start it, run predictions on it, cancel, restart.

One Worker owns at most one child process at a time. A dead child makes the Worker DEFUNCT
and the in-flight predictions fail with a message that says how the process died; the next
`ensure_started()` starts a fresh one.

A *call* is what the model process runs at once: one prediction (`predict`), or a batch of them
in one call of the predictor's batch method (`predict_batch`). A Worker runs one call at a
time, or up to `concurrency` (Cog's concurrency.max, async predictors only) side by side.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import pathlib
import secrets
import signal
import time
from collections.abc import Callable
from typing import Any, NoReturn

from pier.jobs import Status
from pier.jsonfast import loads
from pier.logtail import DEFAULT_LIMIT, LogTail
from pier.runner import messages as m
from pier.runner.calls import (
    Call,
    PredictionEvents,
    PredictionRequest,
    PredictionResult,
    Run,
    ignore,
)
from pier.runner.capture import normalize
from pier.runner.errors import SetupFailed
from pier.runner.process import ChildProcess, describe_exit, spawn_child
from pier.runner.progress import parse_progress

log = logging.getLogger(__name__)


class WorkerState(enum.Enum):
    NEW = "new"
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    DEFUNCT = "defunct"
    SETUP_FAILED = "setup_failed"
    STOPPED = "stopped"


S = WorkerState
TRANSITIONS: dict[WorkerState, set[WorkerState]] = {
    S.NEW: {S.STARTING, S.STOPPED},
    S.STARTING: {S.READY, S.SETUP_FAILED, S.DEFUNCT, S.STOPPED},
    S.READY: {S.BUSY, S.DEFUNCT, S.STOPPED},
    S.BUSY: {S.READY, S.DEFUNCT, S.STOPPED},
    S.DEFUNCT: {S.STARTING, S.STOPPED},
    S.SETUP_FAILED: {S.STARTING, S.STOPPED},
    S.STOPPED: {S.STARTING},
}


async def _within(future: asyncio.Future[Any], timeout: float) -> bool:
    """Whether `future` is done within `timeout` seconds (it is not cancelled otherwise)."""
    done, _ = await asyncio.wait({future}, timeout=timeout)
    return bool(done)


class Worker:
    def __init__(
        self,
        model_dir: pathlib.Path,
        ref: str,
        *,
        env: dict[str, str] | None = None,
        setup_retry_after: float = 30.0,
        cancel_grace: float = 3.0,
        mode: str = "predict",
        setup_timeout: float | None = None,
        max_log_bytes: int = DEFAULT_LIMIT,
        concurrency: int = 1,
    ) -> None:
        self.model_dir = pathlib.Path(model_dir).resolve()
        self.ref = ref
        # The model's environment (pier.envs): its interpreter and where it imports the
        # runner from; None for Pier's own. Set before the first start.
        self.python: str | None = None
        self.runner_path: str | None = None
        self.env = dict(env or {})
        self.setup_retry_after = setup_retry_after
        self.cancel_grace = cancel_grace
        self.mode = mode
        self.setup_timeout = setup_timeout
        self.state = WorkerState.NEW
        # Calls at once in one model process (set before the process starts: it is told too).
        self.concurrency = concurrency
        self.max_log_bytes = max_log_bytes
        self._setup_logs = LogTail(max_log_bytes)
        # Called with what the model prints during setup, as it comes (the dispatcher shows it
        # to the prediction that waits for the model to boot: a weights download, say).
        self.on_setup_log: Callable[[str], None] = ignore
        self.setup_time: float | None = None
        self._child: ChildProcess | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._setup: asyncio.Future[float] | None = None
        self._failure: tuple[float, str, str] | None = None  # when, message, logs
        self._runs: dict[str, Run] = {}  # running predictions by id
        self._calls: dict[str, Call] = {}  # what the model process runs now, by id
        self._start_lock: asyncio.Lock | None = None
        self._stopping = False

    @property
    def setup_logs(self) -> str:
        """What the model printed during its last setup (the end of it, past the limit)."""
        return self._setup_logs.text()

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def _to(self, new: WorkerState) -> None:
        assert new in TRANSITIONS[self.state], f"Worker: {self.state.name} → {new.name}"
        self.state = new

    # -- lifecycle ----------------------------------------------------------------------------
    async def ensure_started(self) -> None:
        """Start the model process and run setup, unless it is already up.

        Raises SetupFailed; within `setup_retry_after` of a failed setup it raises the same
        failure again at once instead of retrying.
        """
        if self.state in (S.READY, S.BUSY):
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self.state in (S.READY, S.BUSY):
                return
            if self.state is S.SETUP_FAILED and self._failure is not None:
                when, message, logs = self._failure
                if time.monotonic() - when < self.setup_retry_after:
                    raise SetupFailed(message, logs)
            await self._start()

    async def _start(self) -> None:
        self._to(S.STARTING)
        self._stopping = False
        self._setup_logs, self.setup_time = LogTail(self.max_log_bytes), None
        setup = self._setup = asyncio.get_running_loop().create_future()
        try:
            # The process runs as many at once as this Worker sends it, whatever the model's
            # own environment says.
            env = {**self.env, "COG_MAX_CONCURRENCY": str(self.concurrency)}
            child = await spawn_child(
                self.model_dir,
                self.ref,
                self.mode,
                env,
                self._on_line,
                python=self.python,
                runner_path=self.runner_path,
            )
        except OSError as exc:
            self._setup_failed(f"Could not start the model process: {exc}", "")
        if self.state is not S.STARTING:  # stop() was called while the process started
            child.kill_group()
            await child.proc.wait()
            child.transport.close()
            child.read_leftover_logs()
            raise SetupFailed("The worker was stopped while the model was starting")
        self._child = child
        self._supervisor = asyncio.create_task(self._supervise(child))
        try:
            self.setup_time = await asyncio.wait_for(asyncio.shield(setup), self.setup_timeout)
        except TimeoutError:
            setup.cancel()
            await self._wait_exit(child, grace=0.0)
            timeout = self.setup_timeout or 0.0
            self._setup_failed(f"setup() did not finish within {timeout:g} s", self.setup_logs)
        except SetupFailed as exc:
            await self._wait_exit(child, grace=2.0)
            self._setup_failed(exc.message, exc.logs)
        except asyncio.CancelledError:  # the caller gave up: do not leave a half-started model
            setup.cancel()
            child.kill_group()
            if self.state is S.STARTING:
                self._to(S.DEFUNCT)
            raise
        if self.state is not S.STARTING:  # stop() came during setup
            raise SetupFailed("The worker was stopped while the model was starting")
        self._to(S.READY)

    def _setup_failed(self, message: str, logs: str) -> NoReturn:
        self._failure = (time.monotonic(), message, logs)
        if self.state is S.STARTING:
            self._to(S.SETUP_FAILED)
        raise SetupFailed(message, logs)

    async def _wait_exit(self, child: ChildProcess, grace: float) -> None:
        supervisor = self._supervisor
        if supervisor is None or child is not self._child:
            return
        done, _ = await asyncio.wait({supervisor}, timeout=grace)
        if not done:
            child.kill_group()
            await supervisor

    async def stop(self) -> None:
        """Shut the model process down (killing it if it does not exit promptly)."""
        if self.state is S.STOPPED:
            return
        child = self._child
        self._to(S.STOPPED)
        self._stopping = True
        if child is not None:
            busy = bool(self._calls)
            if not busy:
                child.send(m.Shutdown().to_json())
            await self._wait_exit(child, grace=0.0 if busy else 2.0)

    # -- predictions --------------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        """Whether the model process could take another call now."""
        return len(self._calls) < self.concurrency

    async def predict(
        self,
        prediction_id: str,
        inputs: dict[str, Any],
        output_dir: pathlib.Path,
        events: PredictionEvents | None = None,
        timeout: float | None = None,
        context: dict[str, str] | None = None,
        keep_logs: bool = True,
    ) -> PredictionResult:
        """Run one prediction; model errors, crashes and timeouts come back as a result.

        `keep_logs=False`: the result's `logs` stay empty (the caller takes them from `on_log`),
        so a chatty model costs no memory here."""
        request = PredictionRequest(
            prediction_id,
            inputs,
            output_dir,
            events or PredictionEvents(),
            context or {},
            keep_logs,
        )
        return (await self._invoke([request], None, timeout))[0]

    async def predict_batch(
        self, method: str, requests: list[PredictionRequest], timeout: float | None = None
    ) -> list[PredictionResult]:
        """Run several predictions in one call of the predictor's `method`, which takes the
        list of their inputs and returns the list of their outputs. Each result has its own
        status; `metrics` gains `batch_size`. A timeout applies to the whole call."""
        return await self._invoke(requests, method, timeout)

    async def _invoke(
        self, requests: list[PredictionRequest], method: str | None, timeout: float | None
    ) -> list[PredictionResult]:
        if not requests:
            return []
        if not self.idle:
            raise RuntimeError(f"this worker is busy with prediction {', '.join(self._calls)}")
        if self.state not in (S.READY, S.BUSY):
            await self.ensure_started()
        if not self.idle:  # another caller took the room while the process started
            raise RuntimeError(f"this worker is busy with prediction {', '.join(self._calls)}")
        assert self.state in (S.READY, S.BUSY) and self._child is not None
        loop = asyncio.get_running_loop()
        call_id = requests[0].id if method is None else f"batch-{secrets.token_hex(8)}"
        runs = [
            Run(
                req.id,
                req.events,
                loop.create_future(),
                loop.time(),
                call_id,
                keep_logs=req.keep_logs,
            )  # fmt: skip
            for req in requests
        ]
        call = Call(call_id, runs)
        self._calls[call_id] = call
        self._runs.update((run.id, run) for run in runs)
        if self.state is S.READY:
            self._to(S.BUSY)
        request: m.Message
        if method is None:
            request = m.Predict(**requests[0].fields())
        else:
            request = m.PredictBatch(call_id, method, [req.fields() for req in requests])
        self._child.send(request.to_json())
        futures = [run.future for run in runs]
        timed_out = False
        try:
            if timeout is not None:
                _, waiting = await asyncio.wait(futures, timeout=timeout)
                if waiting:
                    timed_out = True
                    self._cancel_call(call)
            ends = await asyncio.gather(*futures)
        except asyncio.CancelledError:
            self._cancel_call(call)  # nobody waits for the results any more: stop the model too
            raise
        results = []
        for run, (status, error) in zip(runs, ends, strict=True):
            if timed_out and status is Status.CANCELED:
                status, error = Status.FAILED, f"Prediction timed out after {timeout:g} s"
            ended = run.ended if run.ended is not None else loop.time()
            metrics = {**run.metrics, "predict_time": round(ended - run.started, 6)}
            if method is not None:
                metrics["batch_size"] = len(runs)
            output = list(run.items) if run.iterator else run.output
            results.append(PredictionResult(status, output, error, metrics, "".join(run.logs)))
        return results

    async def cancel(self, prediction_id: str) -> bool:
        """Cancel a running prediction: SIGUSR1 now (a Cancel message to a process that runs
        several at once), SIGKILL if it still runs after the grace period (then the worker is
        DEFUNCT). In a batch with others still wanted, the call goes on and this prediction ends
        canceled with it. False if that prediction is not running here."""
        run = self._runs.get(prediction_id)
        if run is None:
            return False
        run.cancel_requested = True
        call = self._calls.get(run.call_id)
        if call is not None and all(r.cancel_requested or r.future.done() for r in call.runs):
            self._cancel_call(call)
        return True

    def _cancel_call(self, call: Call) -> None:
        child = self._child
        if self._calls.get(call.id) is not call or child is None or call.cancel_requested:
            return
        call.cancel_requested = True
        for run in call.runs:
            run.cancel_requested = True
        if self.concurrency > 1:
            child.send(m.Cancel(call.id).to_json())
        else:
            child.signal(signal.SIGUSR1)
        call.grace = asyncio.create_task(self._kill_after_grace(call, child))

    async def _kill_after_grace(self, call: Call, child: ChildProcess) -> None:
        try:
            await asyncio.wait_for(call.finished.wait(), self.cancel_grace)
        except TimeoutError:
            log.warning("call %s ignored cancel; killing the model process", call.id)
            child.kill_group()

    def _finish(self, run: Run, status: Status, error: str | None) -> None:
        if self._runs.get(run.id) is run:
            del self._runs[run.id]
        call = self._calls.get(run.call_id)
        if call is not None and all(r is run or r.future.done() for r in call.runs):
            del self._calls[call.id]
            call.finished.set()
        if self.state is S.BUSY and not self._calls:
            self._to(S.READY)
        if not run.future.done():
            run.ended = asyncio.get_running_loop().time()
            if run.cancel_requested and status is Status.SUCCEEDED:
                status, error = Status.CANCELED, None  # a batch member whose call went on
            run.future.set_result((status, error))

    def _targets(self, target: str | None) -> list[Run]:
        """The runs a message for `target` (a prediction's id, or a batch's) is about."""
        if target is None:
            return []
        run = self._runs.get(target)
        if run is not None:
            return [run]
        call = self._calls.get(target)
        return [r for r in call.runs if not r.future.done()] if call is not None else []

    # -- messages from the child --------------------------------------------------------------
    async def _supervise(self, child: ChildProcess) -> None:
        closed = child.protocol.closed
        exiting = asyncio.create_task(child.proc.wait())
        either: set[asyncio.Future[Any]] = {closed, exiting}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not await _within(exiting, 5.0):  # the socket closed, yet the process lingers
            child.kill_group()
        await exiting
        if not await _within(closed, 1.0):  # a leftover subprocess holds the socket open
            child.transport.abort()
            await closed
        child.kill_group()  # whatever the model started and left behind
        self._on_exit(child, normalize(child.read_leftover_logs()))

    def _on_line(self, line: bytes) -> None:
        try:
            msg = m.from_body(loads(line))
        except ValueError:
            log.error("the model process sent a malformed message: %r", line[:200])
            return
        self._handle(msg)

    def _handle(self, msg: m.Message) -> None:
        if isinstance(msg, m.Log):
            self._on_log(msg)
            return
        if isinstance(msg, m.Ready | m.SetupFailed):
            self._on_setup_result(msg)
            return
        for run in self._targets(getattr(msg, "id", None)):
            self._deliver(run, msg)

    def _deliver(self, run: Run, msg: m.Message) -> None:
        if run.cancel_requested and isinstance(msg, m.Output | m.OutputKind):
            if run.call_id != run.id:  # a canceled member of a batch: its output is dropped
                return
        if isinstance(msg, m.Output):
            if run.iterator:
                run.items.append(msg.value)
            else:
                run.output = msg.value
            run.call("on_output", msg.value)
        elif isinstance(msg, m.OutputKind):
            run.iterator = msg.iterator
            run.call("on_output_kind", msg.iterator)
        elif isinstance(msg, m.Metric):
            run.metrics[msg.name] = msg.value
            run.call("on_metric", msg.name, msg.value)
        elif isinstance(msg, m.Progress):
            percent = 100.0 * msg.current / msg.total if msg.total else 0.0
            run.call("on_progress", percent, msg.current, msg.total)
        elif isinstance(msg, m.Done):
            self._finish(run, msg.status, msg.error)

    def _on_log(self, msg: m.Log) -> None:
        if msg.id is None:
            if self.state is S.STARTING:
                self._setup_logs.append(msg.text)
                try:
                    self.on_setup_log(msg.text)
                except Exception:
                    log.exception("the setup log callback failed")
            return
        runs = self._targets(msg.id)
        progress = parse_progress(msg.text) if runs else None
        for run in runs:
            if run.keep_logs:
                run.logs.append(msg.text)
            run.call("on_log", msg.text)
            if progress is not None:
                run.call("on_progress", *progress)

    def _on_setup_result(self, msg: m.Ready | m.SetupFailed) -> None:
        if self._setup is None or self._setup.done():
            return
        if isinstance(msg, m.Ready):
            self._setup.set_result(msg.setup_time)
        else:
            self._setup.set_exception(SetupFailed(msg.error, self.setup_logs))

    def _on_exit(self, child: ChildProcess, leftover: str) -> None:
        if child is not self._child:
            return
        self._child = None
        what = describe_exit(child.proc.returncode)
        if self._setup is not None and not self._setup.done():
            self._setup_logs.append(leftover)
            error = SetupFailed(f"The model process {what} during setup", self.setup_logs)
            self._setup.set_exception(error)
        elif leftover:
            for run in self._runs.values():
                if run.keep_logs:
                    run.logs.append(leftover)
                run.call("on_log", leftover)
        if self.state in (S.READY, S.BUSY):
            self._to(S.DEFUNCT)
        for run in list(self._runs.values()):
            if run.future.done():
                continue
            if run.cancel_requested:
                self._finish(run, Status.CANCELED, None)
            elif self._stopping:
                self._finish(
                    run, Status.FAILED, "The model process was stopped during the prediction"
                )
            else:
                self._finish(run, Status.FAILED, f"The model process {what} during the prediction")
