"""What only the admin sees: the cluster (`GET /v1/admin/cluster`) and `/metrics`.

An admin is the account `pier serve` creates on first start, or one made with
`pier accounts create --admin`. To every other account these routes
do not exist: they answer 404 like any unknown address, so nobody learns what they cannot see.
`/metrics` also takes the `metrics_token` setting, for a Prometheus scraper that should not hold
the admin's token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pier.api import cluster
from pier.api.deps import AccountDep, Services, ServicesDep, bearer_token, current_account
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.api.metrics import exposition
from pier.store import Row

router = APIRouter()


def is_admin(account: Row) -> bool:
    return bool(account["is_admin"])


async def admin_account(account: AccountDep) -> Row:
    if not is_admin(account):
        raise not_found("Page")  # the very answer to an address that does not exist
    return account


AdminDep = Annotated[Row, Depends(admin_account)]


async def read_cluster(svc: Services) -> cluster.Cluster:
    # Every process beats as often as this one (the lease is one setting across the cluster).
    return await cluster.read(svc.store, svc.dispatcher.keeper.interval, svc.dispatcher.queue)


@router.get("/v1/admin/cluster")
async def get_cluster(_admin: AdminDep, svc: ServicesDep) -> Response:
    """API processes and workers (host, slots or GPUs, models loaded, what each runs now, last
    heartbeat and whether it is alive), and the predictions waiting per model version."""
    now = await read_cluster(svc)
    return json_response(now.as_json())


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, svc: ServicesDep) -> Response:
    """The same figures for Prometheus: the admin's token or the `metrics_token` setting."""
    token = bearer_token(request)
    expected = svc.settings.metrics_token
    if not (token and expected and hmac.compare_digest(token.encode(), expected.encode())):
        if token is None:
            raise ApiError(
                401,
                "/metrics needs the admin token or the metrics_token setting as a bearer token.",
            )
        await admin_account(await current_account(request, svc))
    now = await read_cluster(svc)
    statuses = await svc.store.count_predictions()
    body, content_type = exposition(now, statuses, request.headers.get("accept", ""))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
