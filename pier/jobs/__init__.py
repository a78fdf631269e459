"""Jobs: the work Pier runs for its users (predictions and trainings), record and vocabulary.

Importing this package stays light (the standard library only): the model process imports the
status vocabulary too, for the `Status` enum of a version's OpenAPI schema.
"""

from pier.jobs.kind import Kind, job_pool, pool_key
from pier.jobs.record import PredictionRecord
from pier.jobs.status import TERMINAL, TRANSITIONS, Phase, Status

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "Kind",
    "Phase",
    "PredictionRecord",
    "Status",
    "job_pool",
    "pool_key",
]
