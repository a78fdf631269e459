"""The store's side of running jobs across processes: leases, cancel requests, the guarded final
write, and the heartbeat rows of processes.

Who runs a job is decided here, never in a queue: a process takes a job by a conditional update
(the job is still `starting` and nobody holds a live lease on it), keeps it by renewing its lease,
and ends it with a write that only applies while it still holds the job. A job whose lease runs
out is ended by whichever process notices first, with the same kind of conditional update, so a
job never ends twice.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pier.store.engine import Write
from pier.store.tables import files, models, predictions, processes, versions, webhook_deliveries

Row = dict[str, Any]
OPEN = ("starting", "processing")


def take_lease(job_id: str, holder: str, until: datetime, now: datetime) -> Write:
    """Hold a waiting job: applies only if it still waits and nobody else holds it."""
    return (
        predictions.update()
        .where(predictions.c.id == job_id, predictions.c.status == "starting")
        .where(predictions.c.cancel_requested_at.is_(None))
        .where(
            sa.or_(
                predictions.c.worker_id.is_(None),
                predictions.c.worker_id == holder,
                predictions.c.lease_expires_at < now,
            )
        )
        .values(worker_id=holder, lease_expires_at=until)
    )


def renew_leases(holder: str, job_ids: list[str], until: datetime) -> Write:
    return (
        predictions.update()
        .where(predictions.c.id.in_(job_ids), predictions.c.worker_id == holder)
        .where(predictions.c.status.in_(OPEN))
        .values(lease_expires_at=until)
    )


# `status IN ('starting', 'processing')` written out, not an expanding parameter: SQLAlchemy
# re-renders an expanding IN on every execution, which the hot final write cannot afford.
_IS_OPEN = predictions.c.status.in_([sa.literal_column(f"'{status}'") for status in OPEN])


@functools.lru_cache(maxsize=256)
def _final_update(columns: frozenset[str]) -> sa.Update:
    """The final write's UPDATE for one set of columns, built once with bound parameters
    (`id_`, `holder_`, and `<column>_` for each value): executing it compiles nothing new."""
    return (
        predictions.update()
        .where(predictions.c.id == sa.bindparam("id_"), _IS_OPEN)
        .where(
            sa.or_(
                predictions.c.worker_id.is_(None),
                predictions.c.worker_id == sa.bindparam("holder_"),
            )
        )
        .values({name: sa.bindparam(name + "_") for name in columns})
    )


def _insert_if(table: sa.Table, row: Mapping[str, Any], *won: sa.ColumnElement[bool]) -> Write:
    """INSERT the row only if the job's write just before it (same transaction) applied: `won`
    matches the job only in the state that write left it in."""
    names = [c.name for c in table.columns if c.name in row]
    values = sa.select(*[sa.literal(row[n], type_=table.c[n].type) for n in names]).where(
        sa.exists().where(*won)
    )
    return table.insert().from_select(names, values)


def _ended(job_id: str, fields: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    return [
        predictions.c.id == job_id,
        predictions.c.status == fields["status"],
        predictions.c.completed_at == fields["completed_at"],
    ]


def final_write(
    job_id: str,
    holder: str,
    fields: Mapping[str, Any],
    file_rows: list[Row],
    webhook: Row | None,
    version: Row | None = None,
) -> list[Write]:
    """A job's last write, its output files, its `completed` webhook and, for a training that
    succeeded, the version it made (which becomes its model's latest): all of them apply only
    while `holder` still holds the job (or nobody does), none otherwise."""
    values = {**fields, "worker_id": holder, "lease_expires_at": None}
    params = {name + "_": value for name, value in values.items()}
    params["id_"], params["holder_"] = job_id, holder
    statements: list[Write] = [(_final_update(frozenset(values)), params)]
    if not file_rows and webhook is None and version is None:
        return statements
    won = [*_ended(job_id, fields), predictions.c.worker_id == holder]
    statements += [_insert_if(files, row, *won) for row in file_rows]
    if webhook is not None:
        statements.append(_insert_if(webhook_deliveries, webhook, *won))
    if version is not None:
        statements += _new_version(version, won)
    return statements


def _new_version(version: Row, won: list[sa.ColumnElement[bool]]) -> list[Write]:
    """Insert a version made by a training (unless an earlier training made the same one) and
    make it its model's latest, both only if the training's final write applied."""
    same = sa.and_(versions.c.model_id == version["model_id"], versions.c.id == version["id"])
    latest = (
        models.update()
        .where(models.c.id == version["model_id"], sa.exists().where(*won))
        .values(latest_version_id=version["id"])
    )
    return [_insert_if(versions, version, *won, ~sa.exists().where(same)), latest]


def cancel_waiting(job_id: str, fields: Mapping[str, Any], webhook: Row | None) -> list[Write]:
    """End a job nobody has taken yet as canceled (with its webhook), if it still waits."""
    statements: list[Write] = [
        predictions.update()
        .where(predictions.c.id == job_id, predictions.c.status == "starting")
        .where(predictions.c.worker_id.is_(None))
        .values(**fields)
    ]
    if webhook is not None:
        statements.append(_insert_if(webhook_deliveries, webhook, *_ended(job_id, fields)))
    return statements


def request_cancel(job_id: str, now: datetime) -> Write:
    return (
        predictions.update()
        .where(predictions.c.id == job_id, predictions.c.status.in_(OPEN))
        .where(predictions.c.cancel_requested_at.is_(None))
        .values(cancel_requested_at=now)
    )


def cancels_for(holder: str) -> sa.Select[Any]:
    return sa.select(predictions.c.id).where(
        predictions.c.worker_id == holder,
        predictions.c.status.in_(OPEN),
        predictions.c.cancel_requested_at.is_not(None),
    )


def expired(now: datetime, limit: int) -> sa.Select[Any]:
    """Jobs whose holder stopped renewing: running ones to fail, taken ones to hand back."""
    return (
        sa.select(predictions)
        .where(predictions.c.status.in_(OPEN), predictions.c.lease_expires_at < now)
        .order_by(predictions.c.lease_expires_at)
        .limit(limit)
    )


def fail_expired(
    job_id: str, now: datetime, fields: Mapping[str, Any], webhook: Row | None
) -> list[Write]:
    """Fail a running job whose lease ran out (with its webhook), unless someone just did."""
    statements: list[Write] = [
        predictions.update()
        .where(predictions.c.id == job_id, predictions.c.status == "processing")
        .where(predictions.c.lease_expires_at < now)
        .values(**fields, lease_expires_at=None)
    ]
    if webhook is not None:
        statements.append(_insert_if(webhook_deliveries, webhook, *_ended(job_id, fields)))
    return statements


def release_expired(job_id: str, now: datetime) -> Write:
    """A job taken but not started by a process that went away waits again for anyone."""
    return (
        predictions.update()
        .where(predictions.c.id == job_id, predictions.c.status == "starting")
        .where(predictions.c.lease_expires_at < now)
        .values(worker_id=None, lease_expires_at=None)
    )


def unheld_waiting(before: datetime, limit: int) -> sa.Select[Any]:
    """Jobs waiting since before `before` that nobody holds (candidates for a new put)."""
    return (
        sa.select(predictions.c.id, predictions.c.version, predictions.c.kind)
        .where(predictions.c.status == "starting", predictions.c.worker_id.is_(None))
        .where(predictions.c.created_at < before)
        .order_by(predictions.c.created_at)
        .limit(limit)
    )


def _in_pool(pool: str) -> sa.ColumnElement[bool]:
    """The jobs of one pool (pier.jobs.kind): a version's predictions, or its trainings."""
    version, _, train = pool.partition(":")
    kind = "training" if train else "prediction"
    return sa.and_(predictions.c.version == version, predictions.c.kind == kind)


def running_count(pool: str) -> sa.Select[Any]:
    return sa.select(sa.func.count()).where(predictions.c.status == "processing", _in_pool(pool))


def recent_metrics(pool: str, limit: int) -> sa.Select[Any]:
    return (
        sa.select(predictions.c.metrics)
        .where(_in_pool(pool), predictions.c.status == "succeeded")
        .order_by(predictions.c.completed_at.desc())
        .limit(limit)
    )


def heartbeat(row: Row) -> tuple[Write, Write]:
    """(update, insert) of a process's row: the insert is for its first beat."""
    fields = {k: v for k, v in row.items() if k != "id"}
    return processes.update().where(processes.c.id == row["id"]).values(**fields), (
        processes.insert().values(**row)
    )


def forget_process(process_id: str) -> Write:
    return processes.delete().where(processes.c.id == process_id)


def forget_dead_processes(before: datetime) -> Write:
    return processes.delete().where(processes.c.heartbeat_at < before)
