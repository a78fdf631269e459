"""What a PostgreSQL connection needs to behave as Pier expects (psycopg 3)."""

from __future__ import annotations

from typing import Any

from psycopg.abc import Buffer
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown


def _without_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


class _NulSafeText(StrDumperUnknown):
    """PostgreSQL text cannot hold NUL characters (SQLite can). A model's logs, or a name a
    client made up and looks for, may carry one: it is written and looked up as U+FFFD."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(_without_nul(obj))


class _NulSafeBinaryText(StrBinaryDumper):
    def dump(self, obj: str) -> Buffer | None:
        return super().dump(_without_nul(obj))


def on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Set up each new connection (an SQLAlchemy `connect` event)."""
    dbapi_connection.adapters.register_dumper(str, _NulSafeText)
    dbapi_connection.adapters.register_dumper(str, _NulSafeBinaryText)
    # Timestamps come back in the session's time zone; every stored timestamp is UTC.
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()
