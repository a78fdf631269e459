"""The wait estimate's arithmetic: the pace of a running job's progress, then the jobs ahead at
the typical run time on whichever slot frees first."""

from __future__ import annotations

import pytest

from pier.dispatch.estimate import projected_total, record_progress, wait_estimate


def reports(*pairs: tuple[float, float]) -> list[tuple[float, float]]:
    kept: list[tuple[float, float]] = []
    for at, percent in pairs:
        record_progress(kept, at, percent)
    return kept


def test_the_pace_leaves_out_a_slow_start() -> None:
    # 0.5 s before the first step, then 10% a second: it ends 10 s after its first report.
    steady = reports(*((0.5 + i, 10.0 * i) for i in range(5)))
    assert projected_total(steady) == pytest.approx(10.5)
    # A first half twice as slow as now counts for nothing: the later half sets the pace.
    slowed = reports((1, 5), (2, 10), (3, 15), (4, 20), (5, 30), (6, 40), (7, 50), (8, 60))
    assert projected_total(slowed) == pytest.approx(12.0)
    assert projected_total(reports((0.2, 1.0))) is None  # too little to go by
    assert projected_total(reports((1.0, 20.0))) == pytest.approx(5.0)  # one report: since start


def test_the_jobs_ahead_take_the_typical_time_on_the_first_free_slot() -> None:
    half_done = reports((1.0, 0.0), (3.0, 50.0))  # ends at 5 s after its start
    assert wait_estimate(0, [(3.0, half_done)], 0, 1, 4.0) == pytest.approx(2.0)
    assert wait_estimate(2, [(3.0, half_done)], 0, 1, 4.0) == pytest.approx(10.0)
    # Two slots: one free now, one busy for 2 more seconds.
    assert wait_estimate(0, [(3.0, half_done)], 0, 2, 4.0) == 0.0
    assert wait_estimate(1, [(3.0, half_done)], 0, 2, 4.0) == pytest.approx(2.0)
    # Before any run ended, the running job's pace stands in for the typical time.
    assert wait_estimate(1, [(3.0, half_done)], 0, 1, None) == pytest.approx(2.0 + 5.0)
    assert wait_estimate(1, [(3.0, None)], 1, 1, None) is None
    # A job taken by a slot but not started counts a typical run.
    assert wait_estimate(0, [], 1, 1, 4.0) == pytest.approx(4.0)


def test_the_reports_kept_stay_few() -> None:
    many = reports(*((float(i), i / 10) for i in range(1000)))
    assert len(many) <= 64 and many[-1] == (999.0, 99.9) and many[0] == (0.0, 0.0)
