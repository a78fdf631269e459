import time

from cog import BasePredictor, Input
from tqdm import tqdm


class Predictor(BasePredictor):
    def setup(self) -> None:
        time.sleep(0.5)  # stands in for loading weights, so "booting" can be seen

    def predict(
        self,
        steps: int = Input(description="Number of steps", default=20, ge=1, le=1000),
        delay: float = Input(description="Seconds per step", default=0.25, ge=0, le=10),
    ) -> str:
        for _ in tqdm(range(steps), desc="working"):
            time.sleep(delay)
        return f"Finished {steps} steps"
