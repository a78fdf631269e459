"""`BasePredictor`: the two-method interface a model implements (subclassing it is optional)."""

from __future__ import annotations

from typing import Any

from pier.sdk.types import File, Path

Weights = File | Path | str


class BasePredictor:
    """Load the model once in `setup()`, then answer many `predict()` calls.

    Type hints on `predict` are the model's input and output schema; give each parameter a
    default with `Input(...)` to describe it.
    """

    def setup(self, weights: Weights | None = None) -> None:  # noqa: B027 - optional hook
        """Prepare the model (load weights into memory). Runs once, before any prediction."""

    def predict(self, **kwargs: Any) -> Any:
        """Run one prediction."""
        raise NotImplementedError("predict() must be implemented by the predictor")

    def train(self, **kwargs: Any) -> Any:
        """Run one training (optional)."""
        raise NotImplementedError("train() is not implemented by this predictor")
