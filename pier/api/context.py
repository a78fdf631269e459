"""A create request's `context`: checked once, for every route that starts a job."""

from __future__ import annotations

from typing import Any

from pier.api.errors import ApiError

MAX_CONTEXT_ENTRIES = 64
MAX_CONTEXT_BYTES = 16 * 1024


def parse_context(value: Any) -> dict[str, str] | None:
    """The request's `context` (as Cog takes it): string keys and values, which the model
    reads from `current_scope().context`; Pier sets its "id" to the prediction's id."""
    if value is None:
        return None
    problem = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problem = "must be an object whose values are strings"
    elif len(value) > MAX_CONTEXT_ENTRIES:
        problem = f"must have at most {MAX_CONTEXT_ENTRIES} entries"
    elif sum(len(k.encode()) + len(v.encode()) for k, v in value.items()) > MAX_CONTEXT_BYTES:
        problem = f"must be at most {MAX_CONTEXT_BYTES // 1024} KiB of keys and values"
    if problem is not None:
        raise ApiError(
            422,
            f"- context: {problem}\n",
            "Input validation failed",
            invalid_fields=[{"type": "invalid", "field": "context", "description": problem}],
        )
    return dict(value) or None
