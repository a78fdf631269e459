"""Server-sent event streams of predictions (`urls.stream`)."""

from pier.stream.events import Cursor, new_stream_token, next_events, stream_url
from pier.stream.hub import Source, StreamHub
from pier.stream.sse import Event

__all__ = [
    "Cursor",
    "Event",
    "Source",
    "StreamHub",
    "new_stream_token",
    "next_events",
    "stream_url",
]
