"""Heartbeat rows of processes written into a Pier's database behind its back, as an API process
or a worker elsewhere writes its own: for the tests and screenshots of the admin's cluster view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pier.store.engine import create_engine
from pier.store.tables import processes
from pier.util import utcnow


def worker_row(process_id: str, age: float = 0.0, **fields: Any) -> dict[str, Any]:
    """A worker's row whose last heartbeat was `age` seconds ago; `fields` replace the rest."""
    now = utcnow()
    return {
        "id": process_id,
        "kind": "worker",
        "host": "gpu-1",
        "pid": 4242,
        "slots": 2,
        "gpus": None,
        "models": None,
        "loaded": [],
        "running": [],
        "started_at": now - timedelta(seconds=age + 60),
        "heartbeat_at": now - timedelta(seconds=age),
        **fields,
    }


def write_heartbeat(database_url: str, row: dict[str, Any]) -> None:
    """Insert or replace a process's row in the database at `database_url`."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as db:
            db.execute(processes.delete().where(processes.c.id == row["id"]))
            db.execute(processes.insert().values(**row))
    finally:
        engine.dispose()
