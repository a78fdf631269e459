import time

from cog import BasePredictor, ConcatenateIterator, Input


class Predictor(BasePredictor):
    def predict(
        self,
        text: str = Input(
            description="Text to stream back word by word",
            default="Pier streams every word as soon as the model yields it.",
        ),
        delay: float = Input(description="Seconds between words", default=0.05, ge=0, le=2),
    ) -> ConcatenateIterator[str]:
        words = text.split()
        for index, word in enumerate(words):
            if index:
                time.sleep(delay)
            yield word if index == len(words) - 1 else word + " "
