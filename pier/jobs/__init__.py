"""Jobs: the work Pier runs for its users (predictions; trainings later), record and vocabulary.

Importing this package stays light (the standard library only): the model process imports the
status vocabulary too, for the `Status` enum of a version's OpenAPI schema.
"""

from pier.jobs.record import PredictionRecord
from pier.jobs.status import TERMINAL, TRANSITIONS, Phase, Status

__all__ = ["TERMINAL", "TRANSITIONS", "Phase", "PredictionRecord", "Status"]
