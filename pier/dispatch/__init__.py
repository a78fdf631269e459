"""Queueing and running predictions: the dispatcher, version pools and live state."""

from pier.dispatch.dispatcher import Dispatcher
from pier.dispatch.live import Live

__all__ = ["Dispatcher", "Live"]
