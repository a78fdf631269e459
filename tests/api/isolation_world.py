"""The world of the cross-account tests: what account A (alice) makes, and how account B (bob)
asks for it (tests/api/test_isolation.py)."""

from __future__ import annotations

import asyncio
import base64
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pier.registry import register
from pier.store import Row
from tests.conftest import BUILTIN, Pier, model_dir


@dataclass
class World:
    """What A made, and every answer B got (to check none of them carries A's data)."""

    pier: Pier
    alice: Row
    a: dict[str, str]  # A's Authorization header
    b: dict[str, str]  # B's
    private_model: Row
    private_version: str
    public_version: str
    prediction: dict[str, Any]  # A's, on the private model
    upload: dict[str, Any]  # A's file from POST /v1/files
    input_file: Row  # the file A's data: URI input was stored as
    b_prediction: dict[str, Any]  # B's own, on A's public model
    alice_token: str  # the id of A's API token
    answers: list[httpx.Response] = field(default_factory=list)
    running: dict[str, Any] = field(default_factory=dict)  # A's, running (start_running)

    async def as_b(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.b, **kwargs.pop("headers", {})}
        response = await self.pier.client.request(method, url, headers=headers, **kwargs)
        self.answers.append(response)
        assert response.status_code < 500, f"{method} {url}: {response.text}"
        return response

    async def as_a(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.pier.client.request(method, url, headers=self.a, **kwargs)

    def a_predictions(self) -> list[dict[str, Any]]:
        return [self.prediction, self.running] if self.running else [self.prediction]

    def secrets(self) -> dict[str, str]:
        """Things of A's that B never sends, so that no answer to B may contain them."""
        streams = {
            f"A's stream token {index}": p["urls"]["stream"].rsplit("/", 1)[1]
            for index, p in enumerate(self.a_predictions())
        }
        return streams | {
            "A's webhook secret": self.alice["webhook_secret"],
            "A's private model id": self.private_model["id"],
            "A's private model description": "alice-private-description",
            "A's model card": "alice-private-card",
            "A's prediction input": "alice-input-bytes",
            "A's uploaded file content": "alice-upload-bytes",
            "A's input file link": self.input_file["public_token"],
            "A's top-up": TOP_UP_MEMO,
        }


Case = Callable[[World], Awaitable[None]]
TOP_UP_MEMO = "alice-top-up-memo"
IDEMPOTENCY_KEY = "alice-create-1"  # the key of A's create; B's key of the same name is B's own
NOT_FOUND = 404


def status(response: httpx.Response, expected: int) -> None:
    assert response.status_code == expected, (
        f"{response.request.method} {response.request.url}: {response.status_code} "
        f"{response.text[:300]}"
    )


async def headers_for(pier: Pier, username: str) -> tuple[Row, dict[str, str]]:
    account = await pier.services.store.create_account(username)
    token = await pier.services.store.create_token(account["id"], "test")
    return account, {"Authorization": f"Bearer {token}"}


async def register_as(pier: Pier, account: Row, name: str, directory: Path, **kw: Any) -> Row:
    svc = pier.services
    _, version, _ = await register(
        svc.store, svc.files.blobs, svc.settings.data_dir, account, directory, name, **kw
    )
    return version


async def make_world(pier: Pier) -> World:
    alice, a = await headers_for(pier, "alice")
    _, b = await headers_for(pier, "bob")
    private_dir = model_dir(pier.tmp, "input_path.py")
    (private_dir / "README.md").write_text("# alice-private-card\n")
    shutil.copy(BUILTIN / "image-filter" / "cover.png", private_dir / "cover.png")
    (private_dir / "pier.yaml").write_text(
        "description: alice-private-description\ncover_image: cover.png\n"
    )
    private = await register_as(pier, alice, "alice/private", private_dir)
    public = await register_as(
        pier, alice, "alice/shared", model_dir(pier.tmp, "input_file.py"), visibility="public"
    )
    private_model = await pier.services.store.get_model("alice", "private")
    assert private_model is not None and private_model["visibility"] == "private"

    content = b"alice-input-bytes " + b"." * 60_000  # stored as a file, not kept inline
    data_uri = "data:text/plain;base64," + base64.b64encode(content).decode()
    created = await pier.client.post(
        "/v1/models/alice/private/predictions",
        json={"input": {"image": data_uri}},
        headers={**a, "Prefer": "wait=30", "Idempotency-Key": IDEMPOTENCY_KEY},
    )
    status(created, 201)
    prediction = await wait_done(pier, a, created.json()["id"])
    assert prediction["status"] == "succeeded", prediction
    link = prediction["input"]["image"]
    assert link.startswith(f"{pier.services.settings.base_url}/files/"), link
    input_file = await pier.services.store.get_file_by_token(link.split("/")[-2])
    assert input_file is not None

    upload = await pier.client.post(
        "/v1/files", files={"content": ("notes.txt", b"alice-upload-bytes")}, headers=a
    )
    status(upload, 201)

    mine = await pier.client.post(
        "/v1/models/alice/shared/predictions",
        json={"input": {"data": "data:text/plain;base64," + base64.b64encode(b"bob").decode()}},
        headers={**b, "Prefer": "wait=30"},
    )
    status(mine, 201)
    b_prediction = await wait_done(pier, b, mine.json()["id"])
    assert b_prediction["status"] == "succeeded" and b_prediction["output"] == "bob"
    return World(
        pier,
        alice,
        a,
        b,
        private_model,
        private["id"],
        public["id"],
        prediction,
        upload.json(),
        input_file,
        b_prediction,
        (await pier.services.store.list_tokens(alice["id"]))[0]["id"],
    )


async def wait_done(pier: Pier, headers: dict[str, str], prediction_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        response = await pier.client.get(f"/v1/predictions/{prediction_id}", headers=headers)
        body: dict[str, Any] = response.json()
        if body.get("status") in ("succeeded", "failed", "canceled"):
            return body
        assert time.monotonic() < deadline, f"prediction still {body.get('status')}: {body}"
        await asyncio.sleep(0.02)


async def start_running(w: World) -> None:
    """A's prediction that runs while B tries it (a live one, not only a stored one)."""
    directory = model_dir(w.pier.tmp, "sleep.py")
    await register_as(w.pier, w.alice, "alice/sleepy", directory)
    made = await w.as_a("POST", "/v1/models/alice/sleepy/predictions", json={"input": {}})
    status(made, 201)
    url = f"/v1/predictions/{made.json()['id']}"
    deadline = time.monotonic() + 30
    while (body := (await w.as_a("GET", url)).json())["status"] != "processing":
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.02)
    w.running = body


async def a_view(w: World) -> dict[str, tuple[int, Any]]:
    """Everything A can read of its own (status and body), to compare before and after B's
    attempts. A model's run_count is left out: it is cached for a second, so it may not show
    B's earlier runs of the public model yet."""
    urls = [
        f"/v1/predictions/{w.prediction['id']}",
        "/v1/predictions?source=all&status=succeeded",
        "/v1/files",
        f"/v1/files/{w.upload['id']}",
        f"/v1/files/{w.upload['id']}/download",
        f"/v1/files/{w.input_file['id']}",
        f"/v1/files/{w.input_file['id']}/download",
        "/v1/models/alice/private",
        "/v1/models/alice/private/versions",
        "/v1/models/alice/private/readme",
        "/v1/models/alice/shared",
        "/v1/models/alice/shared/versions",
        "/v1/webhooks/default/secret",
    ]
    view: dict[str, tuple[int, Any]] = {}
    for url in urls:
        response = await w.as_a("GET", url)
        body: Any = response.content
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            body.pop("run_count", None)
        view[url] = (response.status_code, body)
    return view


def differences(url: str, before: tuple[int, Any], after: tuple[int, Any]) -> str:
    """What changed in one of A's answers, shortly ("" for nothing)."""
    if before == after:
        return ""
    (old_status, old), (new_status, new) = before, after
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        old, new = {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}
    return f"{url}: {old_status} {str(old)[:300]} became {new_status} {str(new)[:300]}"
