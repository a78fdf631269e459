"""Bring a database up to the newest schema with Alembic (run on every start)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def sync_url(url: str) -> str:
    """The synchronous driver URL for a database URL (migrations run synchronously)."""
    if url.startswith("sqlite+aiosqlite:"):
        return "sqlite:" + url.split(":", 1)[1]
    if url.startswith(("postgresql+asyncpg:", "postgres:")):
        return "postgresql+psycopg:" + url.split(":", 1)[1]
    return url


def upgrade(url: str) -> None:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
