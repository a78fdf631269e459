"""The model process: `python -m pier.runner.child --fd N --model-dir D --ref file.py:Attr`.

It imports the predictor, runs `setup()` once, then answers Predict messages one at a time
until Shutdown or until the parent goes away. All it writes to fds 1/2 becomes Log messages.
A PredictBatch runs several predictions in one call of the predictor's batch method. With
`COG_MAX_CONCURRENCY` > 1 (Cog's concurrency.max) an async predictor runs several predictions
at once instead (pier/runner/concurrent.py).
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import fcntl
import inspect
import os
import pathlib
import signal
import socket
import sys
import termios
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from pier.jobs import Status
from pier.runner import messages as m
from pier.runner.capture import FdCapture
from pier.runner.codec import Inputs, OutputEncoder
from pier.runner.loader import (
    NO_WEIGHTS,
    LoadError,
    forget_runner_path,
    import_ref,
    prepare_process,
    weights_argument,
)
from pier.sdk.conform import mismatch
from pier.sdk.scope import MetricValue, Scope, set_current_scope
from pier.sdk.signature import Kind, Signature, read_signature
from pier.sdk.types import CancelationException


class Channel:
    """The child's end of the socketpair: whole lines out (from any thread), lines in."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._buffer = bytearray()
        # recv_into() lands bytes here inside the system call, so a signal handler that runs
        # just after the call returned (before they reach _buffer) still sees them: messages
        # never start with a zero byte, and the first byte is zeroed before each read.
        self._landing = bytearray(1 << 16)
        self.taken = False  # a message was read and its handling has not finished

    def send(self, *msgs: m.Message) -> None:
        data = b"".join(msg.to_json() for msg in msgs)
        with self._lock:
            self._sock.sendall(data)

    def recv(self) -> m.Message | None:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                self.taken = True  # before the bytes leave the buffer: see has_input()
                del self._buffer[: end + 1]
                return m.decode(line)
            landing = self._landing
            count = self._sock.recv_into(landing)
            if not count:
                return None
            self._buffer += landing[:count]
            landing[0] = 0

    def has_input(self) -> bool:
        """Whether a message is waiting or being picked up (safe in a signal handler)."""
        if self.taken or self._buffer or self._landing[0]:
            return True
        count = bytearray(4)
        try:
            fcntl.ioctl(self._sock.fileno(), termios.FIONREAD, count)
        except OSError:
            return False
        return int.from_bytes(count, sys.byteorder) > 0


class OutputTypeError(TypeError):
    """The model returned something its return annotation does not allow."""


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class _Hooks:
    """Routes `current_scope()` reports of one prediction to the parent."""

    def __init__(self, child: Child, prediction_id: str) -> None:
        self.child = child
        self.id = prediction_id

    def metric(self, name: str, value: MetricValue) -> None:
        self.child.send_from_model(m.Metric(self.id, name, value))

    def progress(self, current: int, total: int) -> None:
        self.child.send_from_model(m.Progress(self.id, current, total))


class Child:
    def __init__(self, channel: Channel, capture: FdCapture, mode: str) -> None:
        self.channel = channel
        self.capture = capture
        self.mode = mode
        self.fn: Callable[..., Any] = lambda: None
        self.instance: Any = None
        self.concurrency = _concurrency()
        self.sig: Signature | None = None
        self.loop: Any = None  # one asyncio loop for setup and every async predict, made lazily
        self.task: Any = None
        self.cancel_errors: tuple[type[BaseException], ...] = (CancelationException,)
        self.active = False  # model code is running in the main thread
        self.sending = False  # the main thread is writing to the socket
        self.cancel_requested = False
        self.cancel_delivered = False
        self.predicting = False

    # -- cancelation --------------------------------------------------------------------------
    def on_cancel_signal(self, signum: int, frame: Any) -> None:
        if not self.predicting:
            # Between predictions, a signal is either late (for the prediction that just ended)
            # or early: the parent sends it only after writing its Predict, so the request is
            # then already waiting on the socket.
            if self.channel.has_input():
                self.cancel_requested = True
            return
        self.cancel_requested = True
        if self.task is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        elif self.active and not self.sending and not self.cancel_delivered:
            self.cancel_delivered = True
            raise CancelationException()

    def call_model(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.active = True
        try:
            if self.cancel_requested and not self.cancel_delivered:
                self.cancel_delivered = True
                raise CancelationException()
            return fn(*args, **kwargs)
        finally:
            self.active = False

    def send_from_model(self, msg: m.Message) -> None:
        main = threading.current_thread() is threading.main_thread()
        if not main:
            self.channel.send(msg)
            return
        self.sending = True
        try:
            self.channel.send(msg)
        finally:
            self.sending = False
        if self.active and self.cancel_requested and not self.cancel_delivered:
            self.cancel_delivered = True
            raise CancelationException()

    def run_async(self, awaitable: Any) -> Any:
        if self.loop is None:
            import asyncio  # only async models pay for it

            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.cancel_errors = (CancelationException, asyncio.CancelledError)
        self.task = self.loop.create_task(awaitable)
        if self.predicting and self.cancel_requested:
            self.task.cancel()
        try:
            return self.loop.run_until_complete(self.task)
        finally:
            self.task = None

    # -- load and setup -----------------------------------------------------------------------
    def load_and_setup(self, model_dir: pathlib.Path, ref: str) -> bool:
        started = time.monotonic()
        try:
            target = import_ref(model_dir, ref)
        except LoadError as exc:
            return self.setup_failed(str(exc), "")
        except Exception as exc:
            return self.setup_failed(f"Error while importing {ref}: {type(exc).__name__}: {exc}")
        try:
            self.sig = read_signature(target, self.mode, strict=False)
        except Exception as exc:
            return self.setup_failed(f"Cannot use {ref} as a predictor: {describe(exc)}")
        try:
            instance = self.instance = target() if inspect.isclass(target) else None
            self.fn = getattr(instance, self.mode) if instance is not None else target
            if self.concurrency > 1 and not _is_async(self.fn):
                return self.setup_failed(
                    f"concurrency.max is {self.concurrency}, but {self.mode}() in {ref} is "
                    f"not async: several predictions at once need `async def {self.mode}`",
                    "",
                )
            setup = getattr(instance, "setup", None)
            if callable(setup):
                weights = weights_argument(setup)
                result = setup() if weights is NO_WEIGHTS else setup(weights=weights)
                if inspect.isawaitable(result):
                    self.run_async(result)
        except Exception as exc:
            return self.setup_failed(f"Error in setup(): {type(exc).__name__}: {describe(exc)}")
        # Cancel signals count from here on. Until now SIGUSR1 was ignored, and so it stays
        # for every process setup() started (an ignored signal survives exec): a model's own
        # helper process is never killed by a SIGUSR1 meant for it before it set its trap.
        signal.signal(signal.SIGUSR1, self.on_cancel_signal)
        self.capture.drain()
        self.channel.send(m.Ready(round(time.monotonic() - started, 6)))
        return True

    def setup_failed(self, error: str, tb: str | None = None) -> bool:
        tb = traceback.format_exc() if tb is None else tb
        if tb:
            sys.stderr.write(tb)
        self.capture.drain()
        self.channel.send(m.SetupFailed(error, tb))
        return False

    # -- predictions --------------------------------------------------------------------------
    def serve(self) -> None:
        if self.concurrency > 1:
            from pier.runner.concurrent import ConcurrentServer

            ConcurrentServer(self).serve()
            return
        while True:
            msg = self.channel.recv()
            if msg is None or isinstance(msg, m.Shutdown):
                return
            if isinstance(msg, m.Predict):
                self.predict(msg)
            elif isinstance(msg, m.PredictBatch):
                self.predict_batch(msg)
            self.channel.taken = False

    def predict(self, msg: m.Predict) -> None:
        self.capture.current_id = msg.id
        set_current_scope(Scope(msg.context, _Hooks(self, msg.id)))
        encoder = OutputEncoder(msg.output_dir)
        tail: list[m.Message] = []
        status, error, tb = Status.SUCCEEDED, None, None
        inputs: Inputs | None = None
        self.predicting = True
        try:
            assert self.sig is not None
            inputs = Inputs(self.sig, msg.inputs)
            result = self.call_model(self.fn, **inputs.kwargs)
            tail = self.deliver(msg.id, result, encoder)
        except self.cancel_errors:
            status = Status.CANCELED
        except Exception as exc:
            status, error, tb = Status.FAILED, describe(exc), traceback.format_exc()
            sys.stderr.write(tb)
        finally:
            self.predicting = False
            if inputs is not None:
                inputs.close()
        if self.cancel_requested:
            status, error, tb, tail = Status.CANCELED, None, None, []
        self.capture.drain()
        self.capture.current_id = None
        set_current_scope(None)
        self.channel.send(*tail, m.Done(msg.id, status, error, tb))
        self.channel.taken = False
        self.cancel_requested = self.cancel_delivered = False

    def predict_batch(self, msg: m.PredictBatch) -> None:
        """One call of the batch method with every item's inputs; each item ends on its own."""
        self.capture.current_id = msg.id  # the parent hands the call's logs to every item
        ids = [str(item["id"]) for item in msg.items]
        set_current_scope(Scope({"id": msg.id}, _BatchHooks(self, ids)))
        ended: dict[str, list[m.Message]] = {}
        taken: list[tuple[str, Inputs, OutputEncoder]] = []
        for item in msg.items:
            pid = str(item["id"])
            try:
                assert self.sig is not None
                inputs = Inputs(self.sig, item["inputs"])
            except Exception as exc:  # this one cannot run; the others still do
                ended[pid] = [m.Done(pid, Status.FAILED, describe(exc))]
                continue
            taken.append((pid, inputs, OutputEncoder(str(item["output_dir"]))))
        failure: tuple[Status, str | None, str | None] | None = None
        self.predicting = True
        try:
            method = getattr(self.instance, msg.method, None)
            if not callable(method):
                raise AttributeError(f"the predictor has no method {msg.method}()")
            if taken:
                outputs = self.call_model(method, [inputs.kwargs for _, inputs, _ in taken])
                if inspect.isawaitable(outputs):
                    outputs = self.run_async(outputs)
                if not isinstance(outputs, list | tuple) or len(outputs) != len(taken):
                    got = len(outputs) if isinstance(outputs, list | tuple) else "not a list"
                    raise TypeError(
                        f"{msg.method}() must return a list of {len(taken)} outputs, one per "
                        f"input, in order (got {got})"
                    )
                for (pid, _, encoder), output in zip(taken, outputs, strict=True):
                    ended[pid] = self.batch_item(pid, output, encoder)
        except self.cancel_errors:
            failure = (Status.CANCELED, None, None)
        except Exception as exc:
            failure = (Status.FAILED, describe(exc), traceback.format_exc())
            sys.stderr.write(failure[2] or "")
        finally:
            self.predicting = False
            for _, inputs, _ in taken:
                inputs.close()
        if self.cancel_requested:
            failure = (Status.CANCELED, None, None)
        if failure is not None:
            for pid, _, _ in taken:
                ended[pid] = [m.Done(pid, *failure)]
        self.capture.drain()
        self.capture.current_id = None
        set_current_scope(None)
        self.channel.send(*(reply for pid in ids for reply in ended.get(pid, [])))
        self.channel.taken = False
        self.cancel_requested = self.cancel_delivered = False

    def batch_item(self, pid: str, output: Any, encoder: OutputEncoder) -> list[m.Message]:
        """One item's replies: its output, or its failure when the method put an exception
        in its place (that item failed, the others did not)."""
        if isinstance(output, BaseException):
            return [m.Done(pid, Status.FAILED, describe(output))]
        try:
            value = encoder.encode(output)
        except Exception as exc:
            return [m.Done(pid, Status.FAILED, describe(exc), traceback.format_exc())]
        return [m.OutputKind(pid, False), m.Output(pid, value), m.Done(pid, Status.SUCCEEDED)]

    def deliver(self, pid: str, result: Any, encoder: OutputEncoder) -> list[m.Message]:
        """Stream an iterator's items as they come; return a single value's messages."""
        if inspect.iscoroutine(result):
            result = self.run_async(result)
        if inspect.isasyncgen(result):
            self.channel.send(m.OutputKind(pid, True))
            self.run_async(self.stream_async(pid, result, encoder))
            return []
        if inspect.isgenerator(result) or self.streams(result):
            self.channel.send(m.OutputKind(pid, True))
            items = iter(result)
            while True:
                try:
                    item = self.call_model(next, items)
                except StopIteration:
                    return []
                self.send_item(pid, encoder.encode(self.conform(item, item=True)))
        return [m.OutputKind(pid, False), m.Output(pid, encoder.encode(self.conform(result)))]

    def conform(self, value: Any, item: bool = False) -> Any:
        """`value` itself, when it fits the declared return type (Cog's lax check)."""
        declared = self.sig.output if self.sig is not None else None
        if declared is not None and item:
            declared = declared.args[0] if declared.kind is Kind.ITERATOR else None
        problem = mismatch(declared, value) if declared is not None else None
        if problem is not None:
            raise OutputTypeError(f"The return value of {self.mode}() is not valid: {problem}")
        return value

    def streams(self, result: Any) -> bool:
        declared = self.sig is not None and self.sig.output.kind is Kind.ITERATOR
        return declared and hasattr(result, "__iter__") and not isinstance(result, str | bytes)

    async def stream_async(self, pid: str, agen: Any, encoder: OutputEncoder) -> None:
        async for item in agen:
            self.send_item(pid, encoder.encode(self.conform(item, item=True)))

    def send_item(self, pid: str, value: Any) -> None:
        """Send one streamed item after the logs written before it was yielded."""
        self.capture.drain()
        self.channel.send(m.Output(pid, value))


class _BatchHooks:
    """`current_scope()` reports during a batch call count for every prediction in it."""

    def __init__(self, child: Child, ids: list[str]) -> None:
        self.child = child
        self.ids = ids

    def metric(self, name: str, value: MetricValue) -> None:
        for pid in self.ids:
            self.child.send_from_model(m.Metric(pid, name, value))

    def progress(self, current: int, total: int) -> None:
        for pid in self.ids:
            self.child.send_from_model(m.Progress(pid, current, total))


def _concurrency() -> int:
    try:
        return max(1, int(os.environ.get("COG_MAX_CONCURRENCY") or 1))
    except ValueError:
        return 1


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


def die_with_parent() -> None:
    """Ask Linux to kill this process when the worker that started it dies, even by SIGKILL,
    so a killed worker leaves no model process running a prediction nobody will collect."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request took hold
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pier.runner.child")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--log-fd", type=int, default=None)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--mode", choices=["predict", "train"], default="predict")
    args = parser.parse_args(argv)
    die_with_parent()
    forget_runner_path()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.set_inheritable(args.fd, False)
    sock = socket.socket(fileno=args.fd)
    channel = Channel(sock)
    capture = FdCapture(lambda pid, text: channel.send(m.Log(pid, text)), args.log_fd)
    capture.start()
    faulthandler.enable()  # a segfault leaves a Python traceback in the logs
    child = Child(channel, capture, args.mode)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # until setup is done: see load_and_setup
    model_dir = pathlib.Path(args.model_dir).resolve()
    prepare_process(model_dir)
    try:
        if child.load_and_setup(model_dir, args.ref):
            child.serve()
    finally:  # also on sys.exit() in model code: forward what it printed before leaving
        capture.drain(timeout=2.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
