"""Small helpers shared across Pier: ids and timestamps."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime


def new_id() -> str:
    """26 lowercase base32 characters, like Replicate's prediction ids."""
    return base64.b32encode(os.urandom(16)).decode().lower()[:26]


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(value: datetime | None) -> str | None:
    """RFC 3339 UTC with microseconds and a Z, as Replicate sends."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
