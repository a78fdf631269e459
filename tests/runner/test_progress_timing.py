"""`pier run` ends with the playground's timing words: the total (created to completed) and the
run time, read from the prediction's metrics."""

from __future__ import annotations

import io

from pier.cli.progress import RunDisplay, duration


def test_the_last_line_gives_total_and_run_time_from_the_metrics() -> None:
    err = io.StringIO()
    display = RunDisplay("p1", err=err, out=io.StringIO())
    metrics = {"queue_time": 0.5, "predict_time": 3.29, "total_time": 4.04}
    display.update({"id": "p1", "status": "succeeded", "output": "x", "metrics": metrics})
    display.close()
    assert err.getvalue().splitlines()[-1] == "Succeeded in 4.0 s (run 3.2 s)"


def test_a_prediction_canceled_in_the_queue_has_no_run_time() -> None:
    err = io.StringIO()
    display = RunDisplay("p2", err=err, out=io.StringIO())
    metrics = {"queue_time": 1.5, "predict_time": 0.0, "total_time": 1.5}
    display.update({"id": "p2", "status": "canceled", "output": None, "metrics": metrics})
    assert err.getvalue().splitlines()[-1] == "Canceled in 1.5 s"


def test_durations_are_written_as_the_playground_writes_them() -> None:
    cases = [(0.8509, "850 ms"), (4.29, "4.2 s"), (12.9, "12 s"), (192.5, "3 min 12 s")]
    assert [duration(seconds) for seconds, _ in cases] == [text for _, text in cases]
    assert duration(3840) == "1 h 4 min"
