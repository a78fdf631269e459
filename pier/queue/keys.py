"""Every Redis key and name Pier uses, in one place (all under the `pier:` prefix).

pier:jobs:{pool}      a stream per pool; each entry holds one field, `job` = the job id
pier:job-entries      a hash: job id -> "{pool} {entry id}" while the job is queued or claimed
GROUP                 the consumer group every worker reads its pools' streams with
"""

from __future__ import annotations

PREFIX = "pier:"
ENTRIES = PREFIX + "job-entries"
EVENTS = PREFIX + "events"
GROUP = "pier-workers"


def stream(pool: str) -> str:
    return f"{PREFIX}jobs:{pool}"
