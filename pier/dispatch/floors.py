"""Deployments on the machines that run models: each version a deployment names gets a floor of
model processes kept loaded (min_instances) and a cap on how many run at once (max_instances).

Every process that runs jobs applies them in each keeper round (and the API process at once
when a deployment changes), for the versions of the models it serves. Deployments naming the
same version add up: their floors and caps are summed. Both are counted per process and bounded
by its slots: a worker with 2 slots keeps at most 2 processes of a version loaded, and with
several workers serving the model, each keeps the floor. A version no deployment names any more
loses its floor and cap; processes already loaded stay, as for any version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher


@dataclass
class Wanted:
    model_id: str
    model: str  # "owner/name"
    floor: int = 0
    cap: int = 0


async def apply(dispatcher: Dispatcher) -> None:
    """Set the floor and cap of every pool from the deployments' current releases."""
    if not dispatcher.runs_jobs:
        return
    wanted: dict[str, Wanted] = {}
    for row in await dispatcher.store.deployed_versions():
        if row["model_owner"] is None:  # its model is gone
            continue
        model = f"{row['model_owner']}/{row['model_name']}"
        if not dispatcher.serves(model):
            continue
        entry = wanted.setdefault(row["version_id"], Wanted(row["model_id"], model))
        entry.floor += int(row["min_instances"])
        entry.cap += int(row["max_instances"])
    for version_id, entry in wanted.items():
        version = await dispatcher.store.get_version(entry.model_id, version_id)
        pool = dispatcher.pool_for(version) if version is not None else None
        if pool is not None:
            pool.set_limits(entry.floor, entry.cap, entry.model)
    for version_id, pool in list(dispatcher.pools.items()):
        if version_id not in wanted:
            pool.set_limits(0, None)
