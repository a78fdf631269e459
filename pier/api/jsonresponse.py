"""A lean JSON response for the hot path (no model validation, compact encoding)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pier.jsonfast import dumps


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = dumps(body, default=str)
    return Response(content, status_code=status, media_type="application/json", headers=headers)
