"""An unexpected error is a complete problem+json 500 and nothing escapes the app.

The failure is real: a table goes missing under the running server, as a damaged or
hand-edited database would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Pier, query_database, running_pier


async def test_a_failing_store_is_a_complete_500_and_the_app_raises_nothing(pier: Pier) -> None:
    query_database(pier.services.settings, "ALTER TABLE models RENAME TO models_gone")
    # httpx's ASGI transport re-raises whatever escapes the app, as a server would see it
    response = await pier.client.get("/v1/models")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 500 and "unexpected" in body["detail"]
    assert "Traceback" not in response.text
    # the rest of the API still answers
    assert (await pier.client.get("/v1/account")).status_code == 200


async def test_405_names_the_allowed_methods(pier: Pier) -> None:
    response = await pier.client.patch("/v1/models")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, POST, QUERY"
    account = await pier.client.delete("/v1/account")
    assert account.status_code == 405 and account.headers["allow"] == "GET, PATCH"
    # a version of a model nobody can see is not found (one that exists: 405, Allow: GET)
    version = await pier.client.delete("/v1/models/a/b/versions/" + "0" * 64)
    assert version.status_code == 404


async def test_a_client_that_leaves_while_sending_its_body_is_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/auth/login",
        "raw_path": b"/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    context = running_pier(tmp_path)
    async with context:
        await context.app(scope, receive, send)
    assert sent == []  # no one is left to answer
    assert "unexpected error" not in caplog.text
