"""Whatever a client sends, the answer is a client error in problem+json, never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pier.api.jsonbody import MAX_JSON_DEPTH, BadJson, loads, nesting_depth
from tests.conftest import Pier, running_pier


def nested(depth: int) -> str:
    """A JSON object whose arrays and objects nest `depth` levels, the body itself included."""
    return '{"code": "x", "deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def deep_cursor(depth: int) -> str:
    return base64.urlsafe_b64encode(("[" * depth + "]" * depth).encode()).decode().rstrip("=")


def assert_client_error(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


async def json_post(pier: Pier, path: str, body: bytes | str) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return await pier.client.post(path, content=body, headers=headers)


async def test_deep_json_in_any_body_is_a_400(pier: Pier) -> None:
    await pier.add_fixture("me/hello", "hello_world.py")
    deep = nested(1000)
    for path in ("/v1/predictions", "/v1/models/me/hello/predictions", "/auth/login"):
        response = await json_post(pier, path, deep)
        assert_client_error(response)
        assert f"nested more than {MAX_JSON_DEPTH} levels deep" in response.json()["detail"]
    upload = await pier.client.post(
        "/v1/files", files={"content": ("a.txt", b"a")}, data={"metadata": nested(1000)}
    )
    assert_client_error(upload)


async def test_nesting_up_to_the_limit_is_read(pier: Pier) -> None:
    at_limit = await json_post(pier, "/auth/login", nested(MAX_JSON_DEPTH))
    assert_client_error(at_limit, 401)  # read, and the code is unknown
    over = await json_post(pier, "/auth/login", nested(MAX_JSON_DEPTH + 1))
    assert_client_error(over)


async def test_deep_or_broken_cursors_are_a_400(pier: Pier) -> None:
    for path in ("/v1/predictions", "/v1/files", "/v1/models"):
        for cursor in (deep_cursor(1000), deep_cursor(100), "%FF%FE", "4pyT", "bnVsbA"):
            response = await pier.client.get(path, params={"cursor": cursor})
            assert_client_error(response)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",  # not UTF-8
        b'{"code": "\xff"}',  # invalid UTF-8 inside a string
        b'{"code": NaN}',
        b'{"code": 1e999}',  # a float too large for a finite number
        b'{"code": -Infinity}',
        b'{"code": "\\ud800"}',  # a lone surrogate: not text
        b'{"code": ' + b"9" * 5000 + b"}",  # past Python's int conversion limit
        b"[" * 100_000,
        b"{" * 50_000,
    ],
)
async def test_every_decode_error_is_a_400(pier: Pier, body: bytes) -> None:
    for path in ("/auth/login", "/v1/predictions"):
        assert_client_error(await json_post(pier, path, body))


async def test_emoji_escapes_are_text(pier: Pier) -> None:
    response = await json_post(pier, "/auth/login", b'{"code": "\\ud83d\\ude00"}')
    assert_client_error(response, 401)  # decoded to one character, and the code is unknown


def test_depth_ignores_brackets_inside_strings() -> None:
    text = '{"a": "[[[[", "b": ["\\"[[", {"c": "]]]"}]}'
    assert nesting_depth(text.encode()) == 3
    assert loads(json.dumps({"p": "[" * 500})) == {"p": "[" * 500}
    with pytest.raises(BadJson):
        loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


async def test_streamed_body_over_the_limit_is_413(tmp_path: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size shows while reading
        for _ in range(10):
            yield b"x" * 500

    async with running_pier(tmp_path, max_request_bytes=1000) as small:
        response = await small.client.post(
            "/v1/predictions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_client_error(response, 413)
        assert response.headers["connection"] == "close"


async def test_a_stream_token_outside_ascii_is_a_404(pier: Pier) -> None:
    await pier.add_fixture("me/hello", "hello_world.py")
    prediction = (await pier.create("me/hello", {})).json()
    for path in (f"/v1/streams/{prediction['id']}", f"/v1/files/streams/{prediction['id']}"):
        assert_client_error(await pier.client.get(f"{path}/%C3%B1%C3%82"), 404)
