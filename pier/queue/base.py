"""What every queue offers. A *pool* names a line of jobs that the same workers serve (one per
model version); a *job id* is the id of the job's record in the store.

Each pool's line has *lanes*, numbered from 0: a claim takes the oldest job of the lowest lane
that has one, so jobs in a higher lane wait until the lower lanes are empty. People's jobs wait
in one of three lanes, by the priority the operator gave their account or token (`PRIORITIES`:
high, normal, low); `BACKGROUND_LANE`, last, is for work nobody waits on (the examples made at
first start). A job's position counts every job that will be claimed before it: those ahead in
its own lane and all those in lower lanes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

HIGH_LANE = 0
USER_LANE = 1  # a person's job at normal priority
LOW_LANE = 2
BACKGROUND_LANE = 3
LANES = (HIGH_LANE, USER_LANE, LOW_LANE, BACKGROUND_LANE)  # every lane, the most urgent first
PEOPLE_LANES = (HIGH_LANE, USER_LANE, LOW_LANE)  # the lanes somebody waits on
# The priorities an operator can give an account or a token, and the lane each one means.
PRIORITIES = {"high": HIGH_LANE, "normal": USER_LANE, "low": LOW_LANE}


def check_lane(lane: int) -> int:
    if lane not in LANES:
        raise ValueError(f"unknown queue lane {lane!r}; lanes are {LANES}")
    return lane


def lane_for(priority: str | None) -> int:
    """The lane of a priority name; None (or a name no longer known) is normal priority."""
    return PRIORITIES.get(priority or "normal", USER_LANE)


class QueueUnavailable(Exception):
    """The queue cannot be reached; the caller answers 503 and accepts nothing half-way."""


@dataclass(frozen=True)
class Claim:
    pool: str
    job_id: str
    receipt: str  # what `ack` needs to retire this delivery (a stream entry id, or the job id)
    lane: int = USER_LANE


class JobQueue(Protocol):
    # True when `put` must only happen once the job's record is durable (workers elsewhere will
    # read it); the in-process queue lets the model start while the record commits.
    record_first: bool

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, pool: str, job_id: str, lane: int = USER_LANE) -> None:
        """Add a job at the end of its lane in its pool's line."""

    async def claim(self, pools: Sequence[str], consumer: str, timeout: float) -> Claim | None:
        """The oldest waiting job of the lowest lane that has one in the given pools, or None
        after `timeout` seconds."""

    async def ack(self, claim: Claim) -> None:
        """The job a claim delivered is finished with (ran, or found canceled)."""

    async def remove(self, pool: str, job_id: str) -> bool:
        """Take a job that is still waiting out of its line; False if it was already claimed."""

    async def holds(self, pool: str, job_id: str) -> bool:
        """Whether the job is in the queue: waiting, or delivered and not yet acknowledged."""

    async def position(self, pool: str, job_id: str) -> int | None:
        """How many jobs will be claimed before this one (0: next): those ahead of it in its
        lane and every job of the lower lanes; None if it no longer waits."""

    async def depth(self, pool: str, lane: int | None = None) -> int:
        """How many jobs of the pool wait: in one lane, or in all of them."""

    async def unfinished(self, pool: str) -> int:
        """How many jobs of the pool were claimed and not yet acknowledged (running, or left by
        a claimer that went away)."""
