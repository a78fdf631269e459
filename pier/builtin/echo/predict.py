from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.prefix = "You said: "

    def predict(
        self,
        text: str = Input(description="Text to echo back"),
        uppercase: bool = Input(description="Shout it", default=False),
        repeat: int = Input(description="How many times to repeat it", default=1, ge=1, le=10),
    ) -> str:
        said = text.upper() if uppercase else text
        return self.prefix + " ".join([said] * repeat)
