"""Bring a database up to the newest schema with Alembic (run on every start)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from pier.store.engine import UNAVAILABLE, StoreUnavailable, create_engine, unavailable

MIGRATIONS = Path(__file__).with_name("migrations")
# Several processes may start at once against one PostgreSQL: they migrate one after another.
_MIGRATION_LOCK = 0x70696572  # "pier"


def upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except sa.exc.SQLAlchemyError as exc:
        if unavailable(exc, engine.dialect.name):
            reason = getattr(exc, "orig", None) or exc
            raise StoreUnavailable(f"{UNAVAILABLE} ({reason})") from exc
        raise
    finally:
        engine.dispose()
