"""Yields numbered tokens stamped with the wall clock at the moment each one is yielded."""

import time

from cog import BasePredictor, ConcatenateIterator, Input


class Predictor(BasePredictor):
    def predict(
        self,
        tokens: int = Input(default=500, ge=1),
        interval: float = Input(description="Seconds between tokens", default=0.002, ge=0),
        wait_first: float = Input(description="Seconds before the first token", default=0.0),
    ) -> ConcatenateIterator[str]:
        time.sleep(wait_first)
        for index in range(tokens):
            if index and interval:
                time.sleep(interval)
            yield f"{index}:{time.time_ns()}"
