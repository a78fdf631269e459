"""A model process that runs several predictions at once (Cog's `concurrency.max` > 1).

Only async predictors can: every prediction is a task on the one event loop, sharing the
predictor instance. A reader thread takes messages off the socket and hands them to the loop;
a Cancel names the prediction whose task to cancel, and touches no other. What a task prints
through `sys.stdout`/`sys.stderr` is tagged with its own prediction (a context variable, as in
Cog), so each prediction gets its own logs.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import io
import sys
import threading
import traceback
from typing import TYPE_CHECKING, Any

from pier.jobs import Status
from pier.runner import messages as m
from pier.runner.capture import normalize
from pier.runner.codec import Inputs, OutputEncoder
from pier.sdk.scope import MetricValue, Scope, set_task_scope

if TYPE_CHECKING:
    from pier.runner.child import Child

# The prediction the current task runs, for the log streams.
_prediction: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pier_prediction", default=None
)


class TaskStream(io.TextIOBase):
    """`sys.stdout`/`sys.stderr` for concurrent predictions: text written inside a prediction's
    task goes to that prediction's logs, line by line; anything else to the real stream."""

    def __init__(self, child: Child, real: Any) -> None:
        self._child = child
        self._real = real
        self._partial: dict[str, str] = {}

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return int(self._real.fileno())

    @property
    def buffer(self) -> Any:  # bytes written here bypass the tagging: they reach fds 1/2
        return self._real.buffer

    def write(self, text: str) -> int:
        pid = _prediction.get()
        if pid is None:
            return int(self._real.write(text))
        text = self._partial.pop(pid, "") + text
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut < 0:
            self._partial[pid] = text
            return len(text)
        if text.endswith("\r") and cut == len(text) - 1:  # maybe half of "\r\n": hold it
            cut = max(text.rfind("\n", 0, cut), text.rfind("\r", 0, cut))
            if cut < 0:
                self._partial[pid] = text
                return len(text)
        done, rest = text[: cut + 1], text[cut + 1 :]
        if rest:
            self._partial[pid] = rest
        lines = normalize(done)
        if lines:
            self._child.channel.send(m.Log(pid, lines))
        return len(text)

    def flush(self) -> None:
        self._real.flush()

    def end(self, pid: str) -> None:
        """Send what the prediction left without a final newline."""
        rest = self._partial.pop(pid, "").rstrip("\r")
        if rest:
            self._child.channel.send(m.Log(pid, rest + "\n"))


class ConcurrentServer:
    def __init__(self, child: Child) -> None:
        self.child = child
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.canceled: set[str] = set()
        self.stdout = TaskStream(child, sys.stdout)
        self.stderr = TaskStream(child, sys.stderr)

    def serve(self) -> None:
        child = self.child
        if child.loop is None:
            child.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(child.loop)
        loop: asyncio.AbstractEventLoop = child.loop
        stopped: asyncio.Future[None] = loop.create_future()
        sys.stdout, sys.stderr = self.stdout, self.stderr  # type: ignore[assignment]

        def read() -> None:
            while True:
                try:
                    msg = child.channel.recv()
                except (OSError, ValueError):
                    msg = None
                if msg is None or isinstance(msg, m.Shutdown):
                    loop.call_soon_threadsafe(_resolve, stopped)
                    return
                loop.call_soon_threadsafe(self.take, msg)

        threading.Thread(target=read, name="pier-requests", daemon=True).start()
        try:
            loop.run_until_complete(stopped)
            for task in list(self.tasks.values()):
                task.cancel()
            if self.tasks:
                loop.run_until_complete(asyncio.wait(list(self.tasks.values()), timeout=2.0))
        finally:
            sys.stdout, sys.stderr = self.stdout._real, self.stderr._real

    def take(self, msg: m.Message) -> None:
        if isinstance(msg, m.Predict):
            task = asyncio.get_running_loop().create_task(self.run(msg))
            self.tasks[msg.id] = task
            task.add_done_callback(functools.partial(self._ended, msg.id))
            self._tag_fd_output()
        elif isinstance(msg, m.PredictBatch):
            for item in msg.items:
                self.child.channel.send(
                    m.Done(
                        str(item["id"]),
                        Status.FAILED,
                        "This model runs several predictions at once; it takes no batches",
                    )
                )
        elif isinstance(msg, m.Cancel):
            found = self.tasks.get(msg.id)
            if found is not None:
                self.canceled.add(msg.id)
                found.cancel()

    def _ended(self, pid: str, task: asyncio.Task[None]) -> None:
        """A task that ended without answering: canceled before it ever ran (its Cancel came
        right behind its Predict), or broken inside Pier."""
        if self.tasks.get(pid) is not task:
            return  # run() answered
        del self.tasks[pid]
        self.canceled.discard(pid)
        self._tag_fd_output()
        if task.cancelled():
            self.child.channel.send(m.Done(pid, Status.CANCELED))
        else:
            error = task.exception()
            self.child.channel.send(m.Done(pid, Status.FAILED, f"Pier error: {error}"))

    def _tag_fd_output(self) -> None:
        # Output written to fds 1/2 directly (C code, subprocesses) has no task to tell whose it
        # is: it goes to the prediction only while that one runs alone.
        only = next(iter(self.tasks)) if len(self.tasks) == 1 else None
        self.child.capture.current_id = only

    async def run(self, msg: m.Predict) -> None:
        child, pid = self.child, msg.id
        _prediction.set(pid)
        set_task_scope(Scope(msg.context, _TaskHooks(child, pid)))
        encoder = OutputEncoder(msg.output_dir)
        tail: list[m.Message] = []
        status, error, tb = Status.SUCCEEDED, None, None
        inputs: Inputs | None = None
        try:
            assert child.sig is not None
            inputs = Inputs(child.sig, msg.inputs)
            result = child.fn(**inputs.kwargs)
            if inspect.isawaitable(result):
                result = await result
            if inspect.isasyncgen(result):
                child.channel.send(m.OutputKind(pid, True))
                async for item in result:
                    self.stdout.end(pid)
                    self.stderr.end(pid)
                    child.channel.send(m.Output(pid, encoder.encode(item)))
            elif inspect.isgenerator(result) or child.streams(result):
                child.channel.send(m.OutputKind(pid, True))
                for item in result:
                    child.channel.send(m.Output(pid, encoder.encode(item)))
            else:
                tail = [m.OutputKind(pid, False), m.Output(pid, encoder.encode(result))]
        except asyncio.CancelledError:
            status = Status.CANCELED
        except Exception as exc:
            status, error, tb = Status.FAILED, str(exc) or type(exc).__name__, None
            tb = traceback.format_exc()
            sys.stderr.write(tb)
        finally:
            if inputs is not None:
                inputs.close()
        if pid in self.canceled:
            status, error, tb, tail = Status.CANCELED, None, None, []
        self.stdout.end(pid)
        self.stderr.end(pid)
        self.tasks.pop(pid, None)
        self.canceled.discard(pid)
        if child.capture.current_id == pid:  # its fd output is tagged: let it arrive first
            child.capture.drain()
        self._tag_fd_output()
        child.channel.send(*tail, m.Done(pid, status, error, tb))


class _TaskHooks:
    def __init__(self, child: Child, pid: str) -> None:
        self.child = child
        self.id = pid

    def metric(self, name: str, value: MetricValue) -> None:
        self.child.channel.send(m.Metric(self.id, name, value))

    def progress(self, current: int, total: int) -> None:
        self.child.channel.send(m.Progress(self.id, current, total))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
