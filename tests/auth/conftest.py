"""The test sign-in providers, started once for the package, and a way through them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.auth.providers import FakeGitHub, FakeOIDC


@pytest.fixture(scope="package")
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def oidc() -> Iterator[FakeOIDC]:
    server = FakeOIDC().start()
    yield server
    server.stop()


async def through_provider(
    client: httpx.AsyncClient, provider: str, next_: str = ""
) -> httpx.Response:
    """Start a sign-in at Pier, follow the provider's redirect (real HTTP), and bring its answer
    to Pier's callback with the same cookies: Pier's last answer."""
    start = await client.get(f"/auth/{provider}/login" + (f"?next={next_}" if next_ else ""))
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient() as outside:
        back = await outside.get(start.headers["location"])
    assert back.status_code == 302, back.text
    target = urlsplit(back.headers["location"])
    return await client.get(f"{target.path}?{target.query}")


def handoff_code(answer: httpx.Response) -> str:
    """The one-time login code of the playground address a finished sign-in redirects to."""
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert location.path == "/login"
    return parse_qs(location.query)["code"][0]
