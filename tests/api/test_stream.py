"""Prediction streams over a real socket: uvicorn runs the app inside the test's event loop
(ASGITransport buffers whole responses, so it cannot show events arriving one by one)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import replicate
import uvicorn
from replicate.stream import EventSource

from pier.api.app import create_app
from pier.bootstrap import BootInfo
from pier.stream import StreamHub
from tests import conftest
from tests.conftest import Pier


class served:  # noqa: N801 - used as `async with served(...)`
    """Pier on a real port, in this event loop, with an authenticated client."""

    def __init__(self, tmp_path: Path, **changes: Any) -> None:
        self.tmp = tmp_path
        self.changes = changes

    async def __aenter__(self) -> Pier:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        settings = conftest.test_settings(self.tmp, port=sock.getsockname()[1], **self.changes)
        ready: list[BootInfo] = []
        app = create_app(settings, on_ready=lambda info, _names: ready.append(info))
        config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]))
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert not self.task.done() and time.monotonic() < deadline, "server did not start"
            await asyncio.sleep(0.01)
        self.client = httpx.AsyncClient(
            base_url=settings.base_url, headers={"Authorization": "Bearer test-admin-token"}
        )
        return Pier(self.client, app.state.services, ready[0], "test-admin-token", self.tmp)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        self.server.should_exit = True
        await self.task


@pytest.fixture
async def live(tmp_path: Path, database: str) -> AsyncIterator[Pier]:
    async with served(tmp_path, database=database) as instance:
        yield instance


@dataclass
class Read:
    events: list[Any] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    status: int = 0
    content_type: str = ""


async def read_stream(
    url: str, headers: dict[str, str] | None = None, stop_after: int | None = None
) -> Read:
    """Every event until done (or `stop_after` events), parsed by the Python client's decoder."""
    read = Read()
    decoder = EventSource.Decoder()
    async with httpx.AsyncClient(timeout=30) as http, http.stream("GET", url, headers=headers) as r:
        read.status, read.content_type = r.status_code, r.headers.get("content-type", "")
        if r.status_code != 200:
            return read
        async for line in r.aiter_lines():
            if line.startswith(":"):
                read.comments.append(line)
            event = decoder.decode(line)
            if event is None:
                continue
            read.events.append(event)
            if event.event.value == "done" or len(read.events) == stop_after:
                break
    return read


def outputs(read: Read) -> list[str]:
    return [e.data for e in read.events if e.event.value == "output"]


def names(read: Read) -> list[str]:
    return [e.event.value for e in read.events]


async def test_stream_url_is_in_the_starting_reply_and_needs_no_token(live: Pier) -> None:
    await live.add_builtin("stream-words")
    created = (await live.create("pier/stream-words", {"text": "a b c", "delay": 0.05})).json()
    assert created["status"] == "starting"
    url = created["urls"]["stream"]
    assert url.startswith(f"{live.services.base_url}/v1/streams/{created['id']}/")
    read = await read_stream(url, headers={"Accept": "text/event-stream"})  # no Authorization
    assert read.status == 200
    assert read.content_type.split(";")[0] == "text/event-stream"
    assert outputs(read) == ["a ", "b ", "c"]
    assert names(read)[-1] == "done" and read.events[-1].data == "{}"
    assert all(e.id for e in read.events)
    assert read.comments  # the opening comment went out before any event
    # a Bearer header (what the Python client sends) is fine too
    again = await read_stream(url, headers={"Authorization": "Bearer whatever"})
    assert outputs(again) == ["a ", "b ", "c"]


async def test_each_token_arrives_while_the_model_is_still_running(live: Pier) -> None:
    await live.add_builtin("stream-words")
    created = (await live.create("pier/stream-words", {"text": "w x y z", "delay": 0.4})).json()
    seen_running: list[int] = []
    decoder = EventSource.Decoder()
    async with httpx.AsyncClient(timeout=30) as http:
        async with http.stream("GET", created["urls"]["stream"]) as response:
            async for line in response.aiter_lines():
                event = decoder.decode(line)
                if event is None:
                    continue
                if event.event.value == "done":
                    break
                state = live.services.dispatcher.live.get(created["id"])
                if event.event.value == "output" and state is not None:
                    seen_running.append(len(state.row["output"]))
    # every token but the last was read while later ones were still to come
    assert seen_running[:3] == [1, 2, 3]


async def test_python_client_stream_yields_tokens(live: Pier) -> None:
    await live.add_builtin("stream-words")
    client = replicate.Client(api_token=live.token, base_url=live.services.base_url)
    tokens = []
    async for event in await client.async_stream(
        "pier/stream-words", input={"text": "one two three", "delay": 0.05}
    ):
        tokens.append(str(event))
    assert "".join(tokens) == "one two three"
    assert tokens == ["one ", "two ", "three", ""]  # the last is `done`
    await client._async_client.aclose()  # the client has no close(); its sockets would leak


async def test_late_client_gets_everything_then_done(live: Pier) -> None:
    await live.add_fixture("test/logs", "logs.py")
    created = (await live.create("test/logs", {})).json()
    await live.wait_done(created["id"])
    read = await read_stream(created["urls"]["stream"])
    logs = "\n".join(e.data for e in read.events if e.event.value == "logs")
    assert "from print" in logs and "from a subprocess" in logs
    assert logs.endswith("no newline at the end")
    assert outputs(read) == ["logged"]
    assert names(read)[-1] == "done"


async def test_reconnecting_with_last_event_id_resumes(live: Pier) -> None:
    await live.add_builtin("stream-words")
    words = "alpha beta gamma delta epsilon"
    created = (await live.create("pier/stream-words", {"text": words, "delay": 0.1})).json()
    url = created["urls"]["stream"]
    first = await read_stream(url, stop_after=2)
    assert outputs(first) == ["alpha ", "beta "]
    rest = await read_stream(url, headers={"Last-Event-ID": first.events[-1].id})
    assert outputs(rest) == ["gamma ", "delta ", "epsilon"]
    assert names(rest)[-1] == "done"
    # after `done` there is nothing more to send: 204 stops an EventSource from reconnecting
    async with httpx.AsyncClient() as http:
        after = await http.get(url, headers={"Last-Event-ID": rest.events[-1].id})
    assert after.status_code == 204


async def test_failure_sends_error_then_done(live: Pier) -> None:
    await live.add_fixture("test/fails", "exc_in_predict.py")
    created = (await live.create("test/fails", {})).json()
    read = await read_stream(created["urls"]["stream"])
    assert names(read)[-2:] == ["error", "done"]
    assert "bad things happened" in json.loads(read.events[-2].data)["detail"]
    assert json.loads(read.events[-1].data) == {"reason": "error"}


async def test_cancel_ends_the_stream_with_reason_canceled(live: Pier) -> None:
    await live.add_builtin("slow")
    created = (await live.create("pier/slow", {"steps": 200, "delay": 0.05})).json()
    reader = asyncio.create_task(read_stream(created["urls"]["stream"]))
    await live.client.post(f"/v1/predictions/{created['id']}/cancel")
    read = await asyncio.wait_for(reader, 30)
    assert names(read)[-1] == "done"
    assert json.loads(read.events[-1].data) == {"reason": "canceled"}


async def test_logs_stream_while_running(live: Pier) -> None:
    await live.add_builtin("slow")
    created = (await live.create("pier/slow", {"steps": 3, "delay": 0.2})).json()
    read = await read_stream(created["urls"]["stream"])
    logs = [e.data for e in read.events if e.event.value == "logs"]
    assert len(logs) >= 2  # more than one batch: lines went out as they were written
    assert "3/3" in "\n".join(logs)
    assert outputs(read) == ["Finished 3 steps"]


async def test_keepalive_comments_while_nothing_happens(
    live: Pier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StreamHub, "keepalive", 0.1)
    await live.add_builtin("stream-words")
    created = (await live.create("pier/stream-words", {"text": "a b", "delay": 0.6})).json()
    read = await read_stream(created["urls"]["stream"])
    assert ": keepalive" in read.comments
    assert outputs(read) == ["a ", "b"]


async def test_unknown_or_wrong_token_is_404(live: Pier) -> None:
    await live.add_builtin("echo")
    created = (await live.create("pier/echo", {"text": "x"}, wait=30)).json()
    url = created["urls"]["stream"]
    async with httpx.AsyncClient() as http:
        wrong = await http.get(url[:-3] + "xyz")
        unknown = await http.get(url.replace(created["id"], "nosuchprediction"))
    assert wrong.status_code == 404 and unknown.status_code == 404
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_file_outputs_stream_their_urls_under_v1_files(live: Pier) -> None:
    await live.add_fixture("test/frames", "yield_files.py")
    created = (await live.create("test/frames", {})).json()
    url = created["urls"]["stream"]
    assert "/v1/files/streams/" in url
    read = await read_stream(url)
    urls = outputs(read)
    assert len(urls) == 3
    async with httpx.AsyncClient() as http:
        for item in urls:
            fetched = await http.get(item)  # public, no token
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "image/png"


async def test_finished_streams_survive_a_restart(tmp_path: Path, database: str) -> None:
    async with served(tmp_path, database=database) as first:
        await first.add_builtin("stream-words")
        created = (await first.create("pier/stream-words", {"text": "p q r"}, wait=30)).json()
        assert created["status"] == "succeeded"
    async with served(tmp_path, database=database) as second:
        got = (await second.client.get(f"/v1/predictions/{created['id']}")).json()
        read = await read_stream(got["urls"]["stream"])
    assert outputs(read) == ["p ", "q ", "r"]
    assert names(read)[-1] == "done"
