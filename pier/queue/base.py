"""What every queue offers. A *pool* names a line of jobs that the same workers serve (one per
model version); a *job id* is the id of the job's record in the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class QueueUnavailable(Exception):
    """The queue cannot be reached; the caller answers 503 and accepts nothing half-way."""


@dataclass(frozen=True)
class Claim:
    pool: str
    job_id: str
    receipt: str  # what `ack` needs to retire this delivery (a stream entry id, or the job id)


class JobQueue(Protocol):
    # True when `put` must only happen once the job's record is durable (workers elsewhere will
    # read it); the in-process queue lets the model start while the record commits.
    record_first: bool

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, pool: str, job_id: str) -> None:
        """Add a job at the end of its pool's line."""

    async def claim(self, pools: Sequence[str], consumer: str, timeout: float) -> Claim | None:
        """The oldest waiting job of the given pools, or None after `timeout` seconds."""

    async def ack(self, claim: Claim) -> None:
        """The job a claim delivered is finished with (ran, or found canceled)."""

    async def remove(self, pool: str, job_id: str) -> bool:
        """Take a job that is still waiting out of its line; False if it was already claimed."""

    async def holds(self, pool: str, job_id: str) -> bool:
        """Whether the job is in the queue: waiting, or delivered and not yet acknowledged."""

    async def position(self, pool: str, job_id: str) -> int | None:
        """How many jobs wait before this one (0: next), or None if it no longer waits."""

    async def depth(self, pool: str) -> int:
        """How many jobs of the pool wait."""

    async def unfinished(self, pool: str) -> int:
        """How many jobs of the pool were claimed and not yet acknowledged (running, or left by
        a claimer that went away)."""
