"""What the server offers: its hardware classes, and collections (the gallery's groups of models
by kind of output)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from starlette.responses import Response

from pier.api import serialize
from pier.api.deps import AccountDep, Services, ServicesDep, decode_cursor, encode_cursor
from pier.api.errors import ApiError
from pier.api.jsonresponse import json_response
from pier.api.routes.models import render_model
from pier.store.tables import models, prices

router = APIRouter()

# The gallery's kinds, in its order; a model of any other kind is in "other".
COLLECTIONS = {
    "image": ("Image models", "Models that make or change images."),
    "video": ("Video models", "Models that make video."),
    "text": ("Text models", "Language models: text in, text out."),
    "audio": ("Audio models", "Models that make speech, music or sound."),
    "embedding": ("Embedding models", "Models that turn inputs into vectors for search."),
    "other": ("Other models", "Models whose output is none of the above."),
}
NAMED = [slug for slug in COLLECTIONS if slug != "other"]
PAGE_SIZE = 50
MAX_MODELS = 500  # per collection: a self-hosted Pier has a few dozen


def hardware_name(sku: str) -> str:
    """A readable name for a hardware class: "gpu-a100" reads "GPU A100", "nvidia-t4"
    "Nvidia T4"."""
    words = [w for w in re.split(r"[-_\s]+", sku) if w]
    return " ".join(w.capitalize() if w.isalpha() and len(w) > 4 else w.upper() for w in words)


async def hardware_skus(svc: Services) -> list[str]:
    """The operator's hardware classes: cpu, the class of GPU work (setting gpu_hardware),
    then every other class that has a price, by name."""
    priced = await svc.store.db.read(
        lambda conn: [
            str(key)
            for key in conn.execute(
                sa.select(prices.c.key).where(prices.c.scope == "hardware").order_by(prices.c.key)
            ).scalars()
        ]
    )
    skus = ["cpu", svc.settings.gpu_hardware, *priced]
    return list(dict.fromkeys(sku for sku in skus if sku))


@router.get("/v1/hardware")
async def hardware(svc: ServicesDep) -> Response:
    """The hardware classes models can be set to run on, as `[{"sku", "name"}]` (a bare list,
    as on Replicate)."""
    skus = await hardware_skus(svc)
    return json_response([{"sku": sku, "name": hardware_name(sku)} for sku in skus])


def _summary(slug: str) -> dict[str, Any]:
    name, description = COLLECTIONS[slug]
    return {"name": name, "slug": slug, "description": description}


def _of_kind(slug: str) -> sa.ColumnElement[bool]:
    return models.c.kind.not_in(NAMED) if slug == "other" else models.c.kind == slug


@router.get("/v1/collections")
async def list_collections(
    svc: ServicesDep, account: AccountDep, cursor: str | None = None
) -> Response:
    """The collections that hold at least one model the caller can see, in the gallery's
    order."""
    counts = await svc.store.model_kinds(account["id"])
    others = sum(n for kind, n in counts.items() if kind not in NAMED)
    slugs = [s for s in NAMED if counts.get(s)] + (["other"] if others else [])
    if cursor:
        after = decode_cursor(cursor)[1]
        slugs = slugs[slugs.index(after) + 1 :] if after in slugs else []
    next_url = None
    if len(slugs) > PAGE_SIZE:
        slugs = slugs[:PAGE_SIZE]
        next_url = f"{svc.base_url}/v1/collections?cursor=" + encode_cursor(["", slugs[-1]])
    return json_response(serialize.page([_summary(s) for s in slugs], next_url))


@router.get("/v1/collections/{slug}")
async def get_collection(slug: str, svc: ServicesDep, account: AccountDep) -> Response:
    """A collection with the models in it that the caller can see, by owner/name."""
    if slug not in COLLECTIONS:
        known = ", ".join(COLLECTIONS)
        raise ApiError(404, f"There is no collection {slug!r}; the collections are {known}.")
    rows = await svc.store.list_models(account["id"], None, MAX_MODELS, kind=_of_kind(slug))
    body = _summary(slug)
    body["models"] = [await render_model(svc, row) for row in rows]
    return json_response(body)
