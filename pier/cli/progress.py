"""What `pier run` shows while a prediction waits and runs: phase, queue, progress, text."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from pier.jobs import Phase, Status

BAR_WIDTH = 30


def duration(seconds: float) -> str:
    """A duration written as the playground writes it (pier/web/js/format.js): cut, never
    rounded up, to what is shown: "850 ms", "4.2 s", "12 s", "3 min 12 s", "1 h 4 min"."""
    s = max(0.0, float(seconds))
    if s < 1:
        return f"{math.floor(s * 1000)} ms"
    if s < 10:
        return f"{math.floor(s * 10) / 10:.1f} s"
    if s < 60:
        return f"{math.floor(s)} s"
    minutes = math.floor(s / 60)
    if minutes < 60:
        return f"{minutes} min {math.floor(s % 60)} s"
    return f"{minutes // 60} h {minutes % 60} min"


class RunDisplay:
    """Status goes to stderr (a line rewritten in place on a terminal); text output to stdout."""

    def __init__(self, prediction_id: str, err: TextIO | None = None, out: TextIO | None = None):
        self.err = err or sys.stderr
        self.out = out or sys.stdout
        self.tty = self.err.isatty()
        self.last_status = ""
        self.printed_items = 0
        self.started = time.monotonic()
        self._line_open = False
        self.err.write(f"Prediction {prediction_id}\n")

    def _status(self, text: str) -> None:
        if text == self.last_status:
            return
        self.last_status = text
        if self.tty:
            self.err.write("\r\033[K" + text)
            self._line_open = True
        else:
            self.err.write(text + "\n")
        self.err.flush()

    def _describe(self, p: dict[str, Any]) -> str:
        status = p["status"]
        queue = p.get("queue") or {}
        if status == Status.STARTING and queue.get("phase") == Phase.BOOTING:
            step = queue.get("step")  # e.g. "building the environment"
            return f"Booting the model: {step}…" if step else "Booting the model…"
        if status == Status.STARTING:
            text = f"Queued: position {queue.get('position', '?')}, {queue.get('ahead', 0)} ahead"
            wait = queue.get("estimated_wait")
            return text + (f", about {wait:.0f} s" if wait else "")
        if status == Status.PROCESSING:
            progress = p.get("progress")
            if progress:
                filled = int(BAR_WIDTH * progress["percent"] / 100)
                bar = "#" * filled + "-" * (BAR_WIDTH - filled)
                return (
                    f"Running [{bar}] {progress['percent']:.0f}% "
                    f"{progress['current']}/{progress['total']}"
                )
            return "Running…"
        # The playground's words and figures: total (created to completed) and run time.
        metrics = p.get("metrics") or {}
        total = metrics.get("total_time")
        if not isinstance(total, int | float):
            total = time.monotonic() - self.started
        run = metrics.get("predict_time")
        ran = f" (run {duration(run)})" if isinstance(run, int | float) and run > 0 else ""
        return f"{status.capitalize()} in {duration(total)}{ran}"

    def update(self, prediction: dict[str, Any]) -> None:
        output = prediction.get("output")
        if isinstance(output, list) and all(isinstance(x, str) for x in output):
            fresh = output[self.printed_items :]
            if fresh and not any(x.startswith(("http://", "https://")) for x in fresh):
                self._clear()
                self.out.write("".join(fresh))
                self.out.flush()
                self.printed_items = len(output)
        if prediction["status"] == Status.SUCCEEDED and prediction.get("progress"):
            self._status(self._describe({**prediction, "status": Status.PROCESSING}))
        self._status(self._describe(prediction))

    def _clear(self) -> None:
        if self.tty and self._line_open:
            self.err.write("\r\033[K")
            self.last_status = ""
            self._line_open = False

    def close(self) -> None:
        if self.printed_items:
            self.out.write("\n")
        if self._line_open:
            self.err.write("\n")
        self.err.flush()
