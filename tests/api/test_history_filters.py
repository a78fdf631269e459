"""GET /v1/predictions filtered the way the playground's history filters: by status, model and
source together, with the filters carried into the next page's link; unknown values are a 400."""

from __future__ import annotations

import pytest

from pier.api.routes import predictions as routes
from tests.conftest import Pier


async def ids(pier: Pier, url: str) -> list[str]:
    response = await pier.client.get(url)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["results"]]


async def test_status_model_and_source_filters_combine(
    pier: Pier, monkeypatch: pytest.MonkeyPatch
) -> None:
    await pier.add_builtin("echo")
    await pier.add_builtin("slow")
    done = [(await pier.create("pier/echo", {"text": str(i)}, wait=30)).json() for i in range(3)]
    assert {p["status"] for p in done} == {"succeeded"}
    long = (await pier.create("pier/slow", {"steps": 500, "delay": 0.1})).json()
    canceled = (await pier.client.post(f"/v1/predictions/{long['id']}/cancel")).json()
    assert canceled["status"] == "canceled"
    web = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        json={"input": {"text": "web"}},
        headers={"Prefer": "wait=30", "X-Pier-Source": "web"},
    )
    assert web.json()["status"] == "succeeded"

    assert await ids(pier, "/v1/predictions?status=canceled") == [long["id"]]
    assert await ids(pier, "/v1/predictions?status=failed") == []
    both = await ids(pier, "/v1/predictions?status=canceled,succeeded")
    assert len(both) == 5
    assert await ids(pier, "/v1/predictions?status=succeeded&model=pier/slow") == []
    assert await ids(pier, "/v1/predictions?status=succeeded&source=web") == [web.json()["id"]]
    api_done = await ids(pier, "/v1/predictions?status=succeeded&source=api&model=pier/echo")
    assert api_done == [p["id"] for p in reversed(done)]

    # The next page keeps every filter.
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    first = (await pier.client.get("/v1/predictions?status=succeeded&source=api")).json()
    assert [p["id"] for p in first["results"]] == api_done[:2]
    assert "status=succeeded" in first["next"] and "source=api" in first["next"]
    second = (await pier.client.get(first["next"])).json()
    assert [p["id"] for p in second["results"]] == api_done[2:]
    assert second["next"] is None


async def test_an_unknown_status_is_a_clear_400(pier: Pier) -> None:
    for value in ("done", "succeeded,nope", ","):
        bad = await pier.client.get("/v1/predictions", params={"status": value})
        assert bad.status_code == 400, value
        assert bad.headers["content-type"].startswith("application/problem+json")
        detail = bad.json()["detail"]
        assert "succeeded" in detail and "canceled" in detail
