"""Webhooks delivered to a real receiver on this machine (private targets allowed here)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from replicate.webhook import Webhooks, WebhookSigningSecret

from pier.webhooks import WebhookSender
from tests.conftest import Pier, running_pier


@dataclass
class Call:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """A webhook endpoint that records every request and answers as told."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 200
    gate: asyncio.Event | None = None  # when set up, requests wait for it before answering

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.calls.append(Call(time.monotonic(), headers, body))
        if self.gate is not None:
            await self.gate.wait()
        status = self.answers.pop(0) if self.answers else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def wait_for(self, check: Callable[[list[Call]], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not check(self.calls):
            assert time.monotonic() < deadline, f"webhooks received: {self.calls}"
            await asyncio.sleep(0.02)

    def statuses(self) -> list[str]:
        return [call.json["status"] for call in self.calls]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    hook = Receiver(url=f"http://127.0.0.1:{sock.getsockname()[1]}/hook")
    server = uvicorn.Server(uvicorn.Config(hook, lifespan="off", log_level="warning", ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield hook
    if hook.gate is not None:
        hook.gate.set()
    server.should_exit = True
    await task


@pytest.fixture
async def pier(tmp_path: Path, database: str) -> AsyncIterator[Pier]:
    async with running_pier(tmp_path, allow_private_webhooks=True, database=database) as instance:
        yield instance


def sender(pier: Pier) -> WebhookSender:
    """The app's webhook sender: the dispatcher listener that is a WebhookSender's method."""
    owners = [getattr(hook, "__self__", None) for hook in pier.services.dispatcher.listeners]
    [found] = [owner for owner in owners if isinstance(owner, WebhookSender)]
    return found


async def create(pier: Pier, model: str, input: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = await pier.client.post(
        f"/v1/models/{model}/predictions", json={"input": input, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_default_events_signed_and_shaped_like_get(pier: Pier, receiver: Receiver) -> None:
    await pier.add_builtin("stream-words")
    words = "one two three four five"
    created = await create(
        pier, "pier/stream-words", {"text": words, "delay": 0.3}, webhook=receiver.url
    )
    assert created["webhook"] == receiver.url
    await receiver.wait_for(lambda calls: bool(calls) and calls[-1].json["status"] == "succeeded")
    statuses = receiver.statuses()
    assert statuses[0] == "processing" and statuses.count("succeeded") == 1
    assert len(statuses) >= 3  # start, some output along the way, completed
    outputs = [len(call.json["output"] or []) for call in receiver.calls]
    assert outputs == sorted(outputs) and 0 < outputs[-2] < 5
    final = (await pier.client.get(f"/v1/predictions/{created['id']}")).json()
    assert receiver.calls[-1].json == final

    secret = (await pier.client.get("/v1/webhooks/default/secret")).json()["key"]
    ids = set()
    for call in receiver.calls:
        assert call.headers["content-type"] == "application/json"
        Webhooks.validate(
            headers=call.headers,
            body=call.body.decode(),
            secret=WebhookSigningSecret(key=secret),
            tolerance=300,
        )
        ids.add(call.headers["webhook-id"])
    assert len(ids) == len(receiver.calls)


async def test_events_filter_completed_only(pier: Pier, receiver: Receiver) -> None:
    await pier.add_builtin("stream-words")
    created = await create(
        pier,
        "pier/stream-words",
        {"text": "a b c d", "delay": 0.1},
        webhook=receiver.url,
        webhook_events_filter=["completed"],
    )
    assert created["webhook_events_filter"] == ["completed"]
    await receiver.wait_for(lambda calls: bool(calls))
    assert await sender(pier).drain(10)
    assert receiver.statuses() == ["succeeded"]
    assert receiver.calls[0].json["output"] == ["a ", "b ", "c ", "d"]


async def test_start_only(pier: Pier, receiver: Receiver) -> None:
    await pier.add_builtin("echo")
    created = await create(
        pier, "pier/echo", {"text": "x"}, webhook=receiver.url, webhook_events_filter=["start"]
    )
    await pier.wait_done(created["id"])
    assert await sender(pier).drain(10)
    assert receiver.statuses() == ["processing"]
    assert receiver.calls[0].json["output"] is None


async def test_output_deliveries_are_throttled(pier: Pier, receiver: Receiver) -> None:
    await pier.add_builtin("stream-words")
    text = " ".join(f"w{i}" for i in range(60))
    created = await create(
        pier,
        "pier/stream-words",
        {"text": text, "delay": 0.025},
        webhook=receiver.url,
        webhook_events_filter=["output"],
    )
    await pier.wait_done(created["id"])
    assert await sender(pier).drain(10)
    times = [call.at for call in receiver.calls]
    assert 2 <= len(times) < 12  # 60 outputs over ~1.5 s became a few deliveries
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.45
    assert receiver.calls[-1].json["output"][-1] == "w59"  # the final state arrived


async def test_completed_is_retried_with_the_same_id(pier: Pier, receiver: Receiver) -> None:
    sender(pier).retry_delays = (0.05, 0.05, 0.05)
    receiver.answers = [500, 404]
    await pier.add_builtin("echo")
    await create(
        pier, "pier/echo", {"text": "x"}, webhook=receiver.url, webhook_events_filter=["completed"]
    )
    await receiver.wait_for(lambda calls: len(calls) == 3)
    assert await sender(pier).drain(10)
    assert len(receiver.calls) == 3
    assert len({call.headers["webhook-id"] for call in receiver.calls}) == 1
    assert len({call.body for call in receiver.calls}) == 1


async def test_intermediate_failures_are_not_retried(pier: Pier, receiver: Receiver) -> None:
    sender(pier).retry_delays = (0.05,)
    receiver.answers = [500, 500, 500, 500]
    await pier.add_builtin("echo")
    await create(
        pier, "pier/echo", {"text": "x"}, webhook=receiver.url, webhook_events_filter=["start"]
    )
    await receiver.wait_for(lambda calls: len(calls) == 1)
    assert await sender(pier).drain(10)
    assert len(receiver.calls) == 1


async def test_a_stuck_receiver_never_holds_a_prediction_up(pier: Pier, receiver: Receiver) -> None:
    receiver.gate = asyncio.Event()  # the receiver answers nothing until released
    await pier.add_builtin("echo")
    started = time.monotonic()
    response = await pier.client.post(
        "/v1/models/pier/echo/predictions",
        json={"input": {"text": "x"}, "webhook": receiver.url},
        headers={"Prefer": "wait=30"},
    )
    assert response.json()["status"] == "succeeded"
    assert time.monotonic() - started < 8
    await receiver.wait_for(lambda calls: len(calls) >= 1)
    receiver.gate.set()
    await receiver.wait_for(lambda calls: calls[-1].json["status"] == "succeeded")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"webhook": "http://127.0.0.1:9/hook"}, "loopback or private"),
        ({"webhook": "http://169.254.169.254/"}, "loopback or private"),
        ({"webhook": "http://2130706433/hook"}, "loopback or private"),
        ({"webhook": "http://127.1/hook"}, "loopback or private"),
        ({"webhook": "http://0x7f000001/hook"}, "loopback or private"),
        ({"webhook": "http://0177.0.0.1/hook"}, "loopback or private"),
        ({"webhook": "http://0/hook"}, "loopback or private"),
        ({"webhook": "http://[::1]/hook"}, "loopback or private"),
        ({"webhook": "http://[::ffff:127.0.0.1]/hook"}, "loopback or private"),
        ({"webhook": "not a url"}, "http(s) URL"),
        ({"webhook": "https://example.com", "webhook_events_filter": ["done"]}, "unknown events"),
    ],
)
async def test_bad_webhooks_are_refused_at_create(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    async with running_pier(tmp_path) as strict:  # the default: private targets refused
        await strict.add_builtin("echo")
        response = await strict.client.post(
            "/v1/models/pier/echo/predictions", json={"input": {"text": "x"}, **fields}
        )
    assert response.status_code == 422
    body = response.json()
    assert message in body["detail"]
    assert body["invalid_fields"][0]["field"] in ("webhook", "webhook_events_filter")


async def test_completed_gives_up_after_its_attempts(pier: Pier, receiver: Receiver) -> None:
    sender(pier).retry_delays = (0.05, 0.05)
    receiver.answers = [500] * 10
    await pier.add_builtin("echo")
    created = await create(
        pier, "pier/echo", {"text": "x"}, webhook=receiver.url, webhook_events_filter=["completed"]
    )
    await receiver.wait_for(lambda calls: len(calls) == 3)
    assert await sender(pier).drain(10)
    assert len(receiver.calls) == 3
    assert await pier.services.store.pending_webhook_deliveries(created["id"]) == []
    stored = await pier.services.store.get_webhook_delivery(receiver.calls[0].headers["webhook-id"])
    assert stored is not None
    assert stored["attempts"] == 3 and stored["delivered_at"] is None
    assert stored["last_error"] == "HTTP 500"


async def test_a_completed_webhook_not_yet_delivered_survives_a_restart(
    tmp_path: Path, receiver: Receiver, database: str
) -> None:
    receiver.answers = [503]
    async with running_pier(tmp_path, allow_private_webhooks=True, database=database) as first:
        # The retry is due after this server has stopped.
        sender(first).retry_delays = (4.0,)
        await first.add_builtin("echo")
        created = await create(
            first,
            "pier/echo",
            {"text": "x"},
            webhook=receiver.url,
            webhook_events_filter=["completed"],
        )
        await receiver.wait_for(lambda calls: len(calls) == 1)
    assert len(receiver.calls) == 1
    async with running_pier(tmp_path, allow_private_webhooks=True, database=database) as second:
        await receiver.wait_for(lambda calls: len(calls) == 2)
        assert await sender(second).drain(10)
        final = (await second.client.get(f"/v1/predictions/{created['id']}")).json()
    first_call, second_call = receiver.calls
    assert first_call.headers["webhook-id"] == second_call.headers["webhook-id"]
    assert first_call.body == second_call.body
    assert second_call.json == final and final["status"] == "succeeded"
