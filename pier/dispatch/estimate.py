"""How long a waiting job will wait: the jobs ahead of it, from their progress and recent run
times.

Each slot that runs the version frees up when its job ends: a running job that reports progress
ends when its pace so far says (elapsed / fraction done); one without progress after the typical
run time. The jobs ahead then take a typical run each, on whichever slot frees first. The
typical run time is the version's recent average, or, before any run has ended, the pace of the
jobs running now.
"""

from __future__ import annotations

import heapq
import statistics

MIN_PERCENT = 5.0  # below this a job's pace says little about its end


Report = tuple[float, float]  # (seconds after the job started, percent done)
MAX_REPORTS = 64  # progress reports kept per running job (thinned out, the latest kept)


def record_progress(reports: list[Report], at: float, percent: float) -> None:
    """Add a progress report of a running job, keeping the list short."""
    reports.append((at, percent))
    if len(reports) > MAX_REPORTS:
        reports[:-1] = reports[:-1:2]


def projected_total(reports: list[Report] | None) -> float | None:
    """When a running job will end, in seconds after its start, from its progress reports; None
    while they say too little. The pace is measured over the later half of the run so far (a
    slow start, or a machine that got busier, weighs no more than it should), from its latest
    report, not now, so a report a moment old does not slow it down; before there are two
    reports far enough apart, the pace since the start stands in."""
    if not reports:
        return None
    at, percent = reports[-1]
    anchor = next((r for r in reports if r[0] >= at / 2), reports[0])
    if percent - anchor[1] < MIN_PERCENT:
        anchor = reports[0]
    if percent - anchor[1] >= MIN_PERCENT and at > anchor[0]:
        rate = (percent - anchor[1]) / (at - anchor[0])
        return at + (100.0 - percent) / rate
    if percent >= MIN_PERCENT and at > 0:
        return at * 100.0 / percent
    return None


def wait_estimate(
    ahead: int,
    running: list[tuple[float, list[Report] | None]],
    starting: int,
    slots: int,
    typical: float | None,
) -> float | None:
    """Seconds until the job `ahead` places back in the line starts, or None if unknown.

    `running`: for each job running now, the seconds since it started and its progress reports
    (see `projected_total`), or None; `starting`: jobs taken by a slot that have not
    started yet; `slots`: jobs run at once.
    """
    totals = [projected_total(paced) for _, paced in running]
    known = [t for t in totals if t is not None]
    if typical is None and known:
        typical = statistics.median(known)
    if typical is None:
        return None
    ends = [
        max(0.0, (typical if total is None else total) - elapsed)
        for (elapsed, _), total in zip(running, totals, strict=True)
    ]
    ends += [typical] * starting
    ends += [0.0] * max(0, slots - len(ends))
    heapq.heapify(ends)
    for _ in range(ahead):
        heapq.heappush(ends, heapq.heappop(ends) + typical)
    return round(ends[0], 3)
