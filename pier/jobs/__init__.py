"""Jobs: the work Pier runs for its users (predictions; trainings later) and their vocabulary.

Importing this package stays light (the standard library only): the model process imports the
status vocabulary too, for the `Status` enum of a version's OpenAPI schema.
"""

from pier.jobs.status import TERMINAL, TRANSITIONS, Phase, Status

__all__ = ["TERMINAL", "TRANSITIONS", "Phase", "Status"]
