"""Errors the runner raises to its callers (the dispatcher and the model registry)."""

from __future__ import annotations


class SetupFailed(Exception):
    """The model could not be imported or its `setup()` failed; `logs` has what it printed."""

    def __init__(self, message: str, logs: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.logs = logs


class ModelLoadError(Exception):
    """A model directory's predictor cannot be loaded or described (bad ref, import error,
    unsupported input type). The message is meant for the person adding the model."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
