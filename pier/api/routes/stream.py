"""Prediction streams (`urls.stream`): server-sent events, no token needed.

The URL itself is the credential: the prediction id plus 192 random bits. The JavaScript client
sends no Authorization header to it; the Python client sends its Bearer token, which is ignored.
Models whose output is files get their stream under /v1/files/streams/, the path prefix that
makes the JavaScript client turn each output URL into a FileOutput.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from pier.api.errors import not_found
from pier.stream import Cursor, StreamHub
from pier.stream.sse import CONTENT_TYPE

router = APIRouter()

HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # tells nginx-style proxies not to hold events back
}


def hub(request: Request) -> StreamHub:
    return request.app.state.streams  # type: ignore[no-any-return]


async def _stream(request: Request, prediction_id: str, token: str) -> Response:
    streams = hub(request)
    source = await streams.open(prediction_id, token)
    if source is None:
        raise not_found("Stream")
    last_seen = request.headers.get("last-event-id")
    cursor = Cursor.parse(last_seen)
    if cursor.stage == "done":
        # The client saw the end already; 204 tells an EventSource to stop reconnecting.
        return Response(status_code=204, headers=HEADERS)
    return StreamingResponse(
        streams.follow(source, cursor), media_type=CONTENT_TYPE, headers=HEADERS
    )


@router.get("/v1/streams/{prediction_id}/{token}")
async def text_stream(prediction_id: str, token: str, request: Request) -> Response:
    return await _stream(request, prediction_id, token)


@router.get("/v1/files/streams/{prediction_id}/{token}")
async def file_stream(prediction_id: str, token: str, request: Request) -> Response:
    return await _stream(request, prediction_id, token)
