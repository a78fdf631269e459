"""The two kinds of job: a prediction runs a version's predict(), a training its train().

Both are rows of the `predictions` table and go through the same engine. They wait in separate
lines of the queue (a *pool* each), so a version's predict processes and its train processes
never take each other's jobs: a prediction's pool is named by the version id, a training's by
the version id and ":train".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

TRAIN_POOL_SUFFIX = ":train"


class Kind(enum.StrEnum):
    PREDICTION = "prediction"
    TRAINING = "training"

    @property
    def mode(self) -> str:
        """How the model process is started for this kind: `predict` or `train`."""
        return "train" if self is Kind.TRAINING else "predict"


def pool_key(version_id: str, kind: str) -> str:
    """The queue line (pool) a job of this kind and version waits in."""
    return version_id + TRAIN_POOL_SUFFIX if kind == Kind.TRAINING else version_id


def job_pool(row: Mapping[str, Any]) -> str:
    """The pool of a stored job (its row, or any mapping with `version` and `kind`)."""
    return pool_key(str(row["version"]), str(row.get("kind") or Kind.PREDICTION))
