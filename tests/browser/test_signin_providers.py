"""Signing in through GitHub and an OpenID Connect provider (the test providers, over real HTTP)
in the browser, and the account page: tokens and sessions made, renamed and revoked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.providers import FakeGitHub, FakeOIDC, Person, User
from tests.browser.conftest import PHONE, Pages, PierServer, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api().expect

ALICE = User(
    7, "alice", "Alice A", [{"email": "alice@corp.example", "verified": True, "primary": True}]
)


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[FakeGitHub, FakeOIDC]]:
    github, oidc = FakeGitHub().start(), FakeOIDC().start()
    yield github, oidc
    github.stop()
    oidc.stop()


@pytest.fixture(scope="module")
def signin_server(
    tmp_path_factory: pytest.TempPathFactory, providers: tuple[FakeGitHub, FakeOIDC]
) -> Iterator[PierServer]:
    github, oidc = providers
    settings = {
        **github.settings,
        **oidc.settings,
        "allow_signup": "github:alice,email:corp.example",
    }
    server = PierServer(tmp_path_factory.mktemp("pier-signin") / "data")
    server.env = {f"PIER_{name.upper()}": value for name, value in settings.items()}
    yield server.start(models=())
    server.stop()


@pytest.fixture
def signin_pages(browser: Any, signin_server: PierServer) -> Iterator[Pages]:
    opened = Pages(browser, signin_server)
    yield opened
    opened.close()
    assert not opened.errors, f"errors in the page: {opened.errors}"


def shot(page: Any, path: Path, name: str) -> None:
    page.screenshot(path=str(path / f"{name}.png"), full_page=True)


def test_github_sign_in_lands_signed_in_and_the_account_page_manages_tokens(
    signin_pages: Pages,
    signin_server: PierServer,
    providers: tuple[FakeGitHub, FakeOIDC],
    tmp_path: Path,
) -> None:
    github, _ = providers
    github.signed_in_as = ALICE
    page = signin_pages.open("/predictions", signed_in=False)
    expect(page.get_by_role("heading", name="Sign in to Pier")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in with Example ID")).to_be_visible()
    shot(page, tmp_path, "sign-in")
    page.get_by_role("link", name="Sign in with GitHub").click()

    # Back from GitHub, signed in as alice, on the page asked for, with no code in the address.
    expect(page.get_by_role("button", name="alice")).to_be_visible()
    page.wait_for_url("**/predictions")
    assert "code=" not in page.url
    session_token = page.evaluate("localStorage.getItem('pier.token')")

    page.get_by_role("button", name="alice").click()
    page.get_by_role("link", name="Account and tokens").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_contain_text("Account")
    expect(page.get_by_text("alice@corp.example")).to_be_visible()
    sessions = page.get_by_role("list", name="Sessions")
    expect(sessions.get_by_role("listitem")).to_have_count(1)
    expect(sessions).to_contain_text("This browser")

    # A token: made (its secret shown once, and it works), renamed, revoked.
    page.get_by_label("New token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator(".token-secret-value").inner_text()
    with httpx.Client(base_url=signin_server.url) as client:
        me = client.get("/v1/account", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["username"] == "alice"
    tokens = page.get_by_role("list", name="API tokens")
    expect(tokens).to_contain_text("laptop")
    shot(page, tmp_path, "account")
    page.get_by_role("button", name="Rename laptop").click()
    page.get_by_label("New name").fill("ci runner")
    page.get_by_role("button", name="Save").click()
    expect(tokens).to_contain_text("ci runner")
    page.get_by_role("button", name="Revoke ci runner").click()
    page.get_by_role("button", name="Yes, revoke").click()
    expect(tokens).to_contain_text("No API tokens yet.")
    with httpx.Client(base_url=signin_server.url) as client:
        gone = client.get("/v1/account", headers={"Authorization": f"Bearer {secret}"})
        assert gone.status_code == 401

    phone = signin_pages.open(None, viewport=PHONE, signed_in=False)
    phone.add_init_script(f"localStorage.setItem('pier.token', {session_token!r})")
    phone.goto(signin_server.url + "/account")
    expect(phone.get_by_role("list", name="Sessions")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the account page is {width}px wide on a phone"
    shot(phone, tmp_path, "account-phone")

    # Signing out ends the session on the server too.
    page.get_by_role("button", name="alice").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Pier")).to_be_visible()
    with httpx.Client(base_url=signin_server.url) as client:
        ended = client.get("/v1/account", headers={"Authorization": f"Bearer {session_token}"})
        assert ended.status_code == 401


def test_oidc_sign_in_and_a_refused_newcomer(
    signin_pages: Pages, providers: tuple[FakeGitHub, FakeOIDC], tmp_path: Path
) -> None:
    github, oidc = providers
    oidc.signed_in_as = Person("ada-1", "ada", "Ada L", "ada@corp.example", email_verified=True)
    page = signin_pages.open("/login", signed_in=False)
    page.get_by_role("link", name="Sign in with Example ID").click()
    expect(page.get_by_role("button", name="ada")).to_be_visible()

    github.signed_in_as = User(8, "bob", "Bob", [{"email": "bob@else.org", "verified": True}])
    other = signin_pages.open("/login", signed_in=False)
    other.get_by_role("link", name="Sign in with GitHub").click()
    expect(other.get_by_role("heading", name="No account for you here yet")).to_be_visible()
    expect(other.get_by_role("alert")).to_contain_text("GitHub user bob matches none of them")
    shot(other, tmp_path, "refused")
    other.get_by_role("link", name="Back to sign-in").click()
    expect(other.get_by_role("heading", name="Sign in to Pier")).to_be_visible()
