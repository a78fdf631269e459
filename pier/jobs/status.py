"""The one status vocabulary of a job, in the store, the API, the stream, webhooks and clients.

A job (a prediction today; a training is the second kind) is `starting` until a worker begins
it, `processing` while the model runs it, and then ends in exactly one terminal status. The
members are in Cog's order, which is the order of the `Status` enum in a version's OpenAPI
schema. This module imports only the standard library: the model process imports it too.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """Where a job is in its life; equal to its string value, so rows and JSON keep strings."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL: frozenset[Status] = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})

# Allowed transitions; anything else is a bug and is asserted against.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.STARTING: frozenset({Status.PROCESSING, Status.FAILED, Status.CANCELED}),
    Status.PROCESSING: frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED}),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELED: frozenset(),
}


class Phase(enum.StrEnum):
    """Finer phases of a `starting` job, shown to people; clients ignore them."""

    QUEUED = "queued"
    BOOTING = "booting"
