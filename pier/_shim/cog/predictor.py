"""`cog.predictor`: where older models import `BasePredictor` from."""

from pier.sdk.predictor import BasePredictor

__all__ = ["BasePredictor"]
