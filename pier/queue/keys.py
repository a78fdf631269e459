"""Every Redis key and name Pier uses, in one place (all under the `pier:` prefix).

pier:jobs:{pool}      a stream per pool for lane 0 (high priority); each entry holds one field,
                      `job` = the job id
pier:jobs:{pool}:{n}  the stream of lane n (n > 0) of a pool (pier.queue.base.LANES)
pier:job-entries      a hash: job id -> "{pool} {lane} {entry id}" while the job is queued or
                      claimed (entries written before lanes existed read "{pool} {entry id}")
GROUP                 the consumer group every worker reads its pools' streams with
"""

from __future__ import annotations

PREFIX = "pier:"
ENTRIES = PREFIX + "job-entries"
EVENTS = PREFIX + "events"
GROUP = "pier-workers"


def stream(pool: str, lane: int = 0) -> str:
    return f"{PREFIX}jobs:{pool}" if lane == 0 else f"{PREFIX}jobs:{pool}:{lane}"
