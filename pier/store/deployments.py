"""The store's methods for deployments: a deployment and its numbered releases.

A release is written once and never changed; a deployment points at its current one. Making a
deployment and making a release are each one transaction on the writer (`transact`), so two
changes at once get numbers one after the other, never the same one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pier.store.access import Access, Row
from pier.store.engine import Declined
from pier.store.tables import accounts, deployment_releases, deployments, models, predictions
from pier.util import new_id, utcnow

_CREATOR = accounts.alias("creator")

# A deployment's fields with those of its current release (prefixed `release_` where they
# clash), its model's owner and name, and who made the release.
_CURRENT = (
    sa.select(
        deployments,
        deployment_releases.c.number.label("release_number"),
        deployment_releases.c.model_id,
        deployment_releases.c.version_id,
        deployment_releases.c.hardware,
        deployment_releases.c.min_instances,
        deployment_releases.c.max_instances,
        deployment_releases.c.created_at.label("release_created_at"),
        deployment_releases.c.created_by,
        models.c.owner.label("model_owner"),
        models.c.name.label("model_name"),
        _CREATOR.c.type.label("creator_type"),
        _CREATOR.c.username.label("creator_username"),
        _CREATOR.c.name.label("creator_name"),
    )
    .join(
        deployment_releases,
        sa.and_(
            deployment_releases.c.deployment_id == deployments.c.id,
            deployment_releases.c.number == deployments.c.current_release,
        ),
    )
    .outerjoin(models, models.c.id == deployment_releases.c.model_id)
    .outerjoin(_CREATOR, _CREATOR.c.id == deployment_releases.c.created_by)
)

RELEASE_FIELDS = ("model_id", "version_id", "hardware", "min_instances", "max_instances")


class DeploymentExists(Exception):
    """The owner already has a deployment of that name."""


class DeploymentStore(Access):
    async def create_deployment(
        self, account_id: str, owner: str, name: str, release: Row, created_by: str
    ) -> Row | None:
        """A new deployment with release 1; DeploymentExists when the name is taken."""
        now = utcnow()
        deployment_id = new_id()

        def write(conn: sa.Connection) -> int:
            taken = conn.execute(
                sa.select(deployments.c.id).where(
                    deployments.c.owner == owner, deployments.c.name == name
                )
            ).first()
            if taken is not None:
                raise Declined("taken")
            conn.execute(
                deployments.insert().values(
                    id=deployment_id,
                    account_id=account_id,
                    owner=owner,
                    name=name,
                    current_release=1,
                    created_at=now,
                )
            )
            conn.execute(_release_insert(deployment_id, 1, release, created_by, now))
            return 1

        try:
            await self.db.transact(write)
        except Declined as exc:
            raise DeploymentExists(name) from exc
        return await self.get_deployment(owner, name, account_id)

    async def get_deployment(self, owner: str, name: str, account_id: str) -> Row | None:
        """An account's deployment by owner/name, with its current release (None if it is not
        that account's)."""
        query = _CURRENT.where(
            deployments.c.owner == owner,
            deployments.c.name == name,
            deployments.c.account_id == account_id,
        )
        return await self._one(query)

    async def list_deployments(
        self, account_id: str, after: tuple[str, str] | None, limit: int
    ) -> list[Row]:
        query = _CURRENT.where(deployments.c.account_id == account_id)
        if after is not None:
            query = query.where(sa.tuple_(deployments.c.owner, deployments.c.name) > after)
        return await self._all(query.order_by(deployments.c.owner, deployments.c.name).limit(limit))

    async def new_release(self, deployment: Row, changes: dict[str, Any], created_by: str) -> None:
        """The next release of a deployment: its current one with `changes` applied."""
        now = utcnow()
        deployment_id = deployment["id"]

        def write(conn: sa.Connection) -> int:
            current = (
                conn.execute(
                    sa.select(deployment_releases)
                    .join(deployments, deployments.c.id == deployment_releases.c.deployment_id)
                    .where(
                        deployments.c.id == deployment_id,
                        deployment_releases.c.number == deployments.c.current_release,
                    )
                )
                .mappings()
                .first()
            )
            if current is None:
                raise Declined("gone")
            number = int(current["number"]) + 1
            release = {**{key: current[key] for key in RELEASE_FIELDS}, **changes}
            conn.execute(_release_insert(deployment_id, number, release, created_by, now))
            conn.execute(
                deployments.update()
                .where(deployments.c.id == deployment_id)
                .values(current_release=number)
            )
            return number

        await self.db.transact(write)

    async def delete_deployment(self, deployment_id: str) -> None:
        await self._write(
            deployment_releases.delete().where(
                deployment_releases.c.deployment_id == deployment_id
            ),
            deployments.delete().where(deployments.c.id == deployment_id),
        )

    async def deployment_busy(self, account_id: str, deployment: str) -> int:
        """How many predictions made through a deployment ("owner/name") wait or run."""
        query = (
            sa.select(sa.func.count().label("count_1"))
            .select_from(predictions)
            .where(
                predictions.c.status.in_(("starting", "processing")),
                predictions.c.account_id == account_id,
                predictions.c.deployment == deployment,
            )
        )
        row = await self._one(query)
        return int(row["count_1"]) if row else 0

    async def deployed_versions(self) -> list[Row]:
        """The current release of every deployment, with its model's "owner/name": what the
        model processes kept loaded and the caps on them come from."""
        return await self._all(_CURRENT)


def _release_insert(
    deployment_id: str, number: int, release: Row, created_by: str, now: Any
) -> sa.Insert:
    return deployment_releases.insert().values(
        deployment_id=deployment_id,
        number=number,
        created_at=now,
        created_by=created_by,
        **{key: release[key] for key in RELEASE_FIELDS},
    )
