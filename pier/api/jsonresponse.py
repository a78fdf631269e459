"""A lean JSON response for the hot path (no model validation, compact encoding)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"), default=str)
    return Response(content, status_code=status, media_type="application/json", headers=headers)
