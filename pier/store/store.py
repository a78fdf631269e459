"""The store: every durable read and write Pier makes, as async methods over SQLAlchemy Core.

Rows come back as plain dicts; the API layer shapes them into Replicate's objects.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from pier.jobs import PredictionRecord
from pier.store import migrate
from pier.store.accounts import AccountStore
from pier.store.cache import LRU
from pier.store.deployments import DeploymentStore
from pier.store.engine import Write
from pier.store.fairness import FairnessStore
from pier.store.tables import (
    files,
    models,
    predictions,
    prices,
    versions,
    webhook_deliveries,
)
from pier.util import new_id, utcnow

Row = dict[str, Any]
MODEL_CACHE_SECONDS = 1.0
CACHE_ENTRIES = 1024  # per cache: lookups by name come from clients, so they are bounded


# Statements on every prediction's path are built once; calls pass only parameters.
_INSERT_PREDICTION = predictions.insert()
_INSERT_FILE = files.insert()
_INSERT_WEBHOOK = webhook_deliveries.insert()
_COUNT_RUN = (
    models.update()
    .where(models.c.id == sa.bindparam("model_id_"))
    .values(run_count=models.c.run_count + 1)
)


@functools.lru_cache(maxsize=256)
def _update_statement(columns: frozenset[str]) -> sa.Update:
    return (
        predictions.update()
        .where(predictions.c.id == sa.bindparam("id_"))
        .values({name: sa.bindparam(name + "_") for name in columns})
    )


def _unexpired() -> sa.ColumnElement[bool]:
    return sa.or_(files.c.expires_at.is_(None), files.c.expires_at > utcnow())


def _prediction_update(prediction_id: str, fields: Mapping[str, Any]) -> Write:
    params = {name + "_": value for name, value in fields.items()}
    params["id_"] = prediction_id
    return _update_statement(frozenset(fields)), params


def prediction_insert(row: PredictionRecord) -> tuple[Write, Write]:
    """The insert of a new prediction and its model's run count."""
    return (_INSERT_PREDICTION, row), (_COUNT_RUN, {"model_id_": row["model_id"]})


class Store(AccountStore, FairnessStore, DeploymentStore):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._model_cache: LRU[tuple[str, str], tuple[float, Row | None]] = LRU(CACHE_ENTRIES)
        self._version_cache: LRU[tuple[str, str], Row] = LRU(CACHE_ENTRIES)

    @classmethod
    async def open(cls, url: str) -> Store:
        migrate.upgrade(url)
        return cls(url)

    async def close(self) -> None:
        await self.db.close()

    # -- models and versions -----------------------------------------------------------------
    def _visible_models(self, account_id: str) -> sa.Select[Any]:
        return sa.select(models).where(
            sa.or_(models.c.account_id == account_id, models.c.visibility == "public")
        )

    async def get_model(self, owner: str, name: str, account_id: str | None = None) -> Row | None:
        """A model by owner/name, if `account_id` (when given) may see it.

        Cached for MODEL_CACHE_SECONDS: this is on every prediction's path. Changes made by this
        process clear the cache at once; changes from another process (`pier models add`) show
        within that time.
        """
        key = (owner, name)
        hit = self._model_cache.get(key)
        now = time.monotonic()
        if hit is None or hit[0] < now:
            query = sa.select(models).where(models.c.owner == owner, models.c.name == name)
            hit = (now + MODEL_CACHE_SECONDS, await self._one(query))
            self._model_cache.put(key, hit)
        model = hit[1]
        if model is None or account_id is None:
            return None if model is None else dict(model)
        if model["account_id"] != account_id and model["visibility"] != "public":
            return None
        return dict(model)

    async def get_model_by_id(self, model_id: str) -> Row | None:
        return await self._one(sa.select(models).where(models.c.id == model_id))

    async def list_models(
        self,
        account_id: str,
        after: tuple[str, str] | None,
        limit: int,
        search: str | None = None,
        kind: sa.ColumnElement[bool] | None = None,
    ) -> list[Row]:
        """A page of the models an account can see, by owner/name; `kind` filters them further
        (a condition on models.kind)."""
        query = self._visible_models(account_id)
        if kind is not None:
            query = query.where(kind)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(models.c.owner + "/" + models.c.name).like(pattern),
                    sa.func.lower(sa.func.coalesce(models.c.description, "")).like(pattern),
                )
            )
        if after:
            query = query.where(sa.tuple_(models.c.owner, models.c.name) > after)
        return await self._all(query.order_by(models.c.owner, models.c.name).limit(limit))

    async def create_model(self, account_id: str, owner: str, name: str, **fields: Any) -> Row:
        self._model_cache.clear()
        row = {
            "id": new_id(),
            "account_id": account_id,
            "owner": owner,
            "name": name,
            "visibility": fields.pop("visibility", "private"),
            "kind": fields.pop("kind", "other"),
            "run_count": 0,
            "created_at": utcnow(),
            **fields,
        }
        if await self._write(self._insert_new(models, row)):
            return row
        query = sa.select(models).where(models.c.owner == owner, models.c.name == name)
        existing = await self._one(query)  # made by another process
        assert existing is not None
        return existing

    def forget_models(self) -> None:
        """A model changed behind the cache (a training made its latest version)."""
        self._model_cache.clear()

    async def update_model(self, model_id: str, **fields: Any) -> None:
        self._model_cache.clear()
        await self._write(models.update().where(models.c.id == model_id).values(**fields))

    async def model_kinds(self, account_id: str) -> dict[str, int]:
        """How many of the models an account can see there are of each kind."""
        visible = sa.or_(models.c.account_id == account_id, models.c.visibility == "public")
        query = sa.select(models.c.kind, sa.func.count().label("n")).where(visible)
        rows = await self._all(query.group_by(models.c.kind))
        return {row["kind"]: int(row["n"]) for row in rows}

    async def delete_model(self, model_id: str) -> bool:
        """Delete a model that has no versions (and its own price); False when it has some (or
        is gone). The check and the delete are one statement, so a version pushed meanwhile
        keeps its model."""
        self._model_cache.clear()
        has_versions = sa.exists().where(versions.c.model_id == model_id)

        def delete(conn: sa.Connection) -> int:
            gone = conn.execute(models.delete().where(models.c.id == model_id, ~has_versions))
            if gone.rowcount:
                conn.execute(
                    prices.delete().where(prices.c.scope == "model", prices.c.key == model_id)
                )
            return int(gone.rowcount)

        return bool(await self.db.transact(delete))

    async def add_version(self, row: Row) -> None:
        self._model_cache.clear()
        await self._write(
            self._insert_new(versions, row),
            models.update()
            .where(models.c.id == row["model_id"])
            .values(latest_version_id=row["id"]),
        )

    async def get_version(self, model_id: str, version_id: str) -> Row | None:
        key = (model_id, version_id)
        cached = self._version_cache.get(key)  # versions are immutable
        if cached is not None:
            return cached
        row = await self._one(
            sa.select(versions).where(versions.c.model_id == model_id, versions.c.id == version_id)
        )
        if row is not None:
            self._version_cache.put(key, row)
        return row

    async def find_version(self, version_id: str, account_id: str) -> tuple[Row, Row] | None:
        """A version by bare id among the models an account can see: (model, version)."""
        query = (
            sa.select(versions.c.model_id)
            .join(models, models.c.id == versions.c.model_id)
            .where(versions.c.id == version_id)
            .where(sa.or_(models.c.account_id == account_id, models.c.visibility == "public"))
            .order_by(models.c.created_at)
        )
        hit = await self._one(query)
        if not hit:
            return None
        model = await self.get_model_by_id(hit["model_id"])
        version = await self.get_version(hit["model_id"], version_id)
        assert model and version
        return model, version

    async def list_versions(self, model_id: str) -> list[Row]:
        query = (
            sa.select(versions)
            .where(versions.c.model_id == model_id)
            .order_by(versions.c.created_at.desc())
        )
        return await self._all(query)

    async def all_versions(self) -> list[Row]:
        return await self._all(sa.select(versions))

    # -- predictions -------------------------------------------------------------------------
    async def insert_prediction(self, row: PredictionRecord) -> None:
        await self.queue_prediction_insert(row)

    def queue_prediction_insert(self, row: PredictionRecord) -> asyncio.Future[int]:
        """Queue the insert of a new prediction (and its model's run count) without waiting."""
        return self.db.submit(*prediction_insert(row))

    async def delete_prediction(self, prediction_id: str, model_id: str) -> None:
        """Take back a prediction that was never accepted (its create failed half-way)."""
        await self._write(
            predictions.delete().where(predictions.c.id == prediction_id),
            models.update().where(models.c.id == model_id).values(run_count=models.c.run_count - 1),
        )

    def queue_prediction_update(self, prediction_id: str, **fields: Any) -> asyncio.Future[int]:
        """Queue an update now without waiting for it; later writes are applied after it."""
        return self.db.submit(_prediction_update(prediction_id, fields))

    async def update_prediction(self, prediction_id: str, **fields: Any) -> int:
        return await self._write(_prediction_update(prediction_id, fields))

    async def update_predictions(self, updates: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        statements = [_prediction_update(pid, fields) for pid, fields in updates]
        if statements:
            await self._write(*statements)

    async def finish_prediction(
        self,
        prediction_id: str,
        fields: Mapping[str, Any],
        file_rows: list[Row],
        webhook: Row | None = None,
    ) -> None:
        """The final write of a prediction, the output files it made and its `completed` webhook,
        in one transaction: a prediction never ends without the webhook that says so."""
        statements: list[Write] = [(_INSERT_FILE, row) for row in file_rows]
        statements.append(_prediction_update(prediction_id, fields))
        if webhook is not None:
            statements.append((_INSERT_WEBHOOK, webhook))
        await self._write(*statements)

    async def get_prediction(
        self, prediction_id: str, account_id: str | None = None
    ) -> PredictionRecord | None:
        query = sa.select(predictions).where(predictions.c.id == prediction_id)
        if account_id is not None:
            query = query.where(predictions.c.account_id == account_id)
        return cast("PredictionRecord | None", await self._one(query))

    async def list_predictions(
        self,
        account_id: str,
        before: tuple[datetime, str] | None,
        limit: int,
        model: str | None = None,
        sources: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        kind: str = "prediction",
    ) -> list[PredictionRecord]:
        """A page of an account's jobs of one kind (predictions, or trainings), newest first;
        `sources` keeps only those made from these sources ("web", "api", "example")."""
        query = sa.select(predictions).where(
            predictions.c.account_id == account_id, predictions.c.kind == kind
        )
        if model:
            query = query.where(predictions.c.model == model)
        if sources is not None:
            query = query.where(predictions.c.source.in_(list(sources)))
        if statuses is not None:
            query = query.where(predictions.c.status.in_(list(statuses)))
        if before:
            query = query.where(
                sa.tuple_(predictions.c.created_at, predictions.c.id) < sa.tuple_(*before)
            )
        order = (predictions.c.created_at.desc(), predictions.c.id.desc())
        return cast("list[PredictionRecord]", await self._all(query.order_by(*order).limit(limit)))

    async def recent_successes(self, version_id: str, limit: int = 50) -> list[PredictionRecord]:
        """A version's latest successful predictions (their input and metrics), newest first."""
        query = (
            sa.select(predictions.c.id, predictions.c.input, predictions.c.metrics)
            .where(predictions.c.version == version_id, predictions.c.status == "succeeded")
            .where(predictions.c.kind == "prediction")
            .order_by(predictions.c.completed_at.desc())
            .limit(limit)
        )
        return cast("list[PredictionRecord]", await self._all(query))

    async def predictions_with_status(self, *statuses: str) -> list[PredictionRecord]:
        query = (
            sa.select(predictions)
            .where(predictions.c.status.in_(statuses))
            .order_by(predictions.c.created_at, predictions.c.id)
        )
        return cast("list[PredictionRecord]", await self._all(query))

    async def forget_secrets(self, *statuses: str) -> int:
        """Clear the secret inputs of predictions in these (ended) statuses; how many."""
        return await self._write(
            predictions.update()
            .where(predictions.c.status.in_(statuses), predictions.c.secret_input.is_not(None))
            .values(secret_input=sa.null())
        )

    # -- files -------------------------------------------------------------------------------
    # An expired file is gone for every reader at once, before the sweep deletes it.
    async def insert_file(self, row: Row) -> None:
        await self._write((_INSERT_FILE, row))

    async def get_file(self, file_id: str, account_id: str) -> Row | None:
        return await self._one(
            sa.select(files).where(
                files.c.id == file_id, files.c.account_id == account_id, _unexpired()
            )
        )

    async def get_file_by_token(self, public_token: str) -> Row | None:
        return await self._one(
            sa.select(files).where(files.c.public_token == public_token, _unexpired())
        )

    async def list_files(
        self, account_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[Row]:
        query = sa.select(files).where(
            files.c.account_id == account_id, files.c.prediction_id.is_(None), _unexpired()
        )
        if before:
            query = query.where(sa.tuple_(files.c.created_at, files.c.id) < sa.tuple_(*before))
        order = (files.c.created_at.desc(), files.c.id.desc())
        return await self._all(query.order_by(*order).limit(limit))

    async def delete_file(self, file_id: str, account_id: str) -> int:
        return await self._write(
            files.delete().where(files.c.id == file_id, files.c.account_id == account_id)
        )

    async def expired_files(self, now: datetime, limit: int) -> list[Row]:
        query = sa.select(files).where(files.c.expires_at <= now).order_by(files.c.expires_at)
        return await self._all(query.limit(limit))

    async def delete_files(self, file_ids: list[str]) -> int:
        return await self._write(files.delete().where(files.c.id.in_(file_ids)))

    # -- webhook deliveries (the outbox of `completed` webhooks) ------------------------------
    async def get_webhook_delivery(self, delivery_id: str) -> Row | None:
        return await self._one(
            sa.select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        )

    async def pending_webhook_deliveries(self, prediction_id: str) -> list[str]:
        """Ids of a prediction's deliveries still to be attempted."""
        query = sa.select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.prediction_id == prediction_id,
            webhook_deliveries.c.next_attempt_at.is_not(None),
        )
        return [row["id"] for row in await self._all(query)]

    async def due_webhook_deliveries(self, now: datetime, limit: int) -> list[Row]:
        """Deliveries whose next attempt is due, oldest first: (id, prediction_id) each."""
        query = (
            sa.select(webhook_deliveries.c.id, webhook_deliveries.c.prediction_id)
            .where(webhook_deliveries.c.next_attempt_at <= now)
            .order_by(webhook_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        return await self._all(query)

    async def update_webhook_delivery(self, delivery_id: str, **fields: Any) -> int:
        return await self._write(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == delivery_id)
            .values(**fields)
        )

    async def claim_webhook_attempt(
        self, delivery_id: str, due: datetime, hold_until: datetime
    ) -> bool:
        """Take the next attempt of a delivery, so that one process sends it: applies only if
        the attempt is still due as `due` said (nobody else took it meanwhile). Until the
        outcome is stored, the attempt is held; a process that dies holding it leaves it to
        be sent again after `hold_until`, with the same webhook-id."""
        taken = await self._write(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == delivery_id)
            .where(webhook_deliveries.c.next_attempt_at == due)
            .values(next_attempt_at=hold_until)
        )
        return bool(taken)

    async def prune_webhook_deliveries(self, before: datetime) -> int:
        """Forget deliveries that are done (delivered or given up) and older than `before`."""
        return await self._write(
            webhook_deliveries.delete().where(
                webhook_deliveries.c.next_attempt_at.is_(None),
                webhook_deliveries.c.created_at < before,
            )
        )
