"""`cog.server.exceptions`: the cancelation exception, at its legacy import path."""

from pier.sdk.types import CancelationException

__all__ = ["CancelationException"]
