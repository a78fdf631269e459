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


def projected_total(paced: tuple[float, float, float, float] | None) -> float | None:
    """When a running job will end, in seconds after its start, from its first and latest
    progress reports (at, percent); None while they say too little. The pace between the two
    leaves out the time before the first report (loading inputs, starting the loop), and is
    taken at the latest report, not now, so a report a moment old does not slow it down."""
    if paced is None:
        return None
    first_at, first_percent, at, percent = paced
    if percent - first_percent >= MIN_PERCENT and at > first_at:
        rate = (percent - first_percent) / (at - first_at)
        return at + (100.0 - percent) / rate
    if percent >= MIN_PERCENT and at > 0:
        return at * 100.0 / percent
    return None


def wait_estimate(
    ahead: int,
    running: list[tuple[float, tuple[float, float, float, float] | None]],
    starting: int,
    slots: int,
    typical: float | None,
) -> float | None:
    """Seconds until the job `ahead` places back in the line starts, or None if unknown.

    `running`: for each job running now, the seconds since it started and its first and latest
    progress (see `projected_total`), or None; `starting`: jobs taken by a slot that have not
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
