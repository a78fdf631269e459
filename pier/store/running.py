"""The store's methods for running jobs across processes (leases, cancel requests, guarded final
writes; statements in `jobs.py`) and for the processes that run them (heartbeats, the cluster
view)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from pier.jobs import PredictionRecord
from pier.store import jobs
from pier.store.access import Access, Row
from pier.store.tables import predictions, processes


class JobStore(Access):
    # -- running jobs across processes (statements in pier/store/jobs.py) ---------------------
    async def take_lease(self, job_id: str, holder: str, until: datetime, now: datetime) -> bool:
        return bool(await self._write(jobs.take_lease(job_id, holder, until, now)))

    async def renew_leases(self, holder: str, job_ids: list[str], until: datetime) -> None:
        if job_ids:
            await self._write(jobs.renew_leases(holder, job_ids, until))

    async def finish_job(
        self,
        job_id: str,
        holder: str,
        fields: Mapping[str, Any],
        file_rows: list[Row],
        webhook: Row | None,
        version: Row | None = None,
    ) -> bool:
        """The final write of a job held by `holder` (with the version a training made); False
        (and nothing written) if another process ended it first."""
        statements = jobs.final_write(job_id, holder, fields, file_rows, webhook, version)
        return bool(await self._write(*statements))

    async def cancel_waiting(
        self, job_id: str, fields: Mapping[str, Any], webhook: Row | None
    ) -> bool:
        return bool(await self._write(*jobs.cancel_waiting(job_id, fields, webhook)))

    async def request_cancel(self, job_id: str, now: datetime) -> None:
        await self._write(jobs.request_cancel(job_id, now))

    async def cancels_for(self, holder: str) -> list[str]:
        return [row["id"] for row in await self._all(jobs.cancels_for(holder))]

    async def expired_jobs(self, now: datetime, limit: int = 100) -> list[PredictionRecord]:
        return cast("list[PredictionRecord]", await self._all(jobs.expired(now, limit)))

    async def fail_expired(
        self, job_id: str, now: datetime, fields: Mapping[str, Any], webhook: Row | None
    ) -> bool:
        return bool(await self._write(*jobs.fail_expired(job_id, now, fields, webhook)))

    async def release_expired(self, job_id: str, now: datetime) -> bool:
        return bool(await self._write(jobs.release_expired(job_id, now)))

    async def unheld_waiting(self, before: datetime, limit: int = 500) -> list[Row]:
        return await self._all(jobs.unheld_waiting(before, limit))

    async def running_count(self, pool: str) -> int:
        """Jobs of a pool (a version's predictions, or its trainings) running anywhere now."""

        def run(conn: sa.Connection) -> int:
            return int(conn.execute(jobs.running_count(pool)).scalar_one())

        return await self.db.read(run)

    async def recent_run_time(self, pool: str, limit: int = 20) -> float | None:
        """The mean run time of a pool's latest successful jobs (a version's predictions, or its
        trainings), or None."""
        rows = await self._all(jobs.recent_metrics(pool, limit))
        times = [
            float(r["metrics"]["predict_time"])
            for r in rows
            if isinstance(r["metrics"], dict)
            and isinstance(r["metrics"].get("predict_time"), int | float)
        ]
        return sum(times) / len(times) if times else None

    async def heartbeat(self, row: Row) -> None:
        update, insert = jobs.heartbeat(row)
        if not await self._write(update):
            await self._write(insert)

    async def forget_process(self, process_id: str) -> None:
        await self._write(jobs.forget_process(process_id))

    async def forget_dead_processes(self, before: datetime) -> None:
        await self._write(jobs.forget_dead_processes(before))

    # -- the cluster at a glance (`pier status`, the operator page, /metrics) ------------------
    async def list_processes(self) -> list[Row]:
        """Every process's row as its last heartbeat left it: API processes, then workers."""
        order = (processes.c.kind, processes.c.host, processes.c.started_at, processes.c.id)
        return await self._all(sa.select(processes).order_by(*order))

    async def queue_summary(self) -> list[Row]:
        """Per model version, the predictions still waiting to start: `model`, `version`,
        `depth` (how many) and `oldest` (when the longest-waiting one was created)."""
        query = (
            sa.select(
                predictions.c.model,
                predictions.c.version,
                sa.func.count().label("depth"),
                sa.func.min(predictions.c.created_at).label("oldest"),
            )
            .where(predictions.c.status == "starting")
            .group_by(predictions.c.model, predictions.c.version)
            .order_by(predictions.c.model, predictions.c.version)
        )
        return await self._all(query)

    async def count_predictions(self) -> dict[str, int]:
        """How many predictions are in each status."""
        query = sa.select(predictions.c.status, sa.func.count().label("count")).group_by(
            predictions.c.status
        )
        return {row["status"]: int(row["count"]) for row in await self._all(query)}
