"""Caches in front of the store are bounded: asking for things that do not exist costs nothing
that stays."""

from __future__ import annotations

import asyncio

from pier.store.store import CACHE_ENTRIES
from tests.conftest import Pier


async def test_unknown_model_names_do_not_grow_the_cache(pier: Pier) -> None:
    await pier.add_builtin("echo")
    store = pier.services.store
    names = [f"nobody/missing-{i}" for i in range(5000)]
    for start in range(0, len(names), 250):
        batch = names[start : start + 250]
        responses = await asyncio.gather(*(pier.client.get(f"/v1/models/{n}") for n in batch))
        assert {r.status_code for r in responses} == {404}
        assert len(store._model_cache) <= CACHE_ENTRIES
    assert len(store._model_cache) == CACHE_ENTRIES
    # predictions by unknown names and versions are refused the same way, within the bound
    for i in range(50):
        response = await pier.client.post(
            "/v1/predictions", json={"version": f"nobody/x{i}:{'ab' * 32}", "input": {}}
        )
        assert response.status_code == 422
    assert len(store._model_cache) == CACHE_ENTRIES
    # what does exist is still found
    found = await pier.client.get("/v1/models/pier/echo")
    assert found.status_code == 200 and found.json()["name"] == "echo"
