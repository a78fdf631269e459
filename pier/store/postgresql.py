"""What a PostgreSQL connection needs to behave as Pier expects (psycopg 3)."""

from __future__ import annotations

import functools
import time
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.abc import Buffer
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

TRUSTED_IDLE_SECONDS = 1.0
_LAST_USED = "pier_last_used"


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


def set_up(engine: sa.Engine) -> None:
    """Make each connection of an engine behave as Pier expects, and check a connection that
    sat idle before it is used: the database may have restarted, or a network dropped it, in
    between. Checking every connection every time (SQLAlchemy's `pool_pre_ping`) would cost a
    round trip per transaction; a connection used within the last second is taken as alive,
    and if it is not, the error is an outage like any other (503) and the pool starts afresh.
    """
    sa.event.listen(engine, "connect", _on_connect)
    sa.event.listen(engine, "checkin", _on_checkin)
    sa.event.listen(engine, "checkout", functools.partial(_on_checkout, engine.dialect))


def _on_connect(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.adapters.register_dumper(str, _NulSafeText)
    dbapi_connection.adapters.register_dumper(str, _NulSafeBinaryText)
    # Timestamps come back in the session's time zone; every stored timestamp is UTC.
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()
    record.info[_LAST_USED] = time.monotonic()


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_LAST_USED] = time.monotonic()


def _on_checkout(dialect: sa.Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if time.monotonic() - record.info.get(_LAST_USED, 0.0) < TRUSTED_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except psycopg.Error as exc:  # the pool drops this connection and makes a new one
        raise sa.exc.DisconnectionError(str(exc)) from exc
