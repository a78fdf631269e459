"""Signing in (login link, then a pasted token) and finding models in the gallery."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Pages, PierServer, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api().expect


def test_login_link_signs_in_once_and_a_token_works_too(
    pages: Pages, pier_server: PierServer
) -> None:
    page = pages.open(None, signed_in=False)
    page.goto(pier_server.login_link)

    # The link lands on the gallery, signed in, with the code gone from the address bar.
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="pier/echo")).to_be_visible()
    assert "code=" not in page.url
    token = page.evaluate("localStorage.getItem('pier.token')")
    with pier_server.api() as client:
        account = client.get("/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert account.status_code == 200
    expect(page.get_by_role("button", name=account.json()["username"])).to_be_visible()

    # The same link a second time is refused with a readable message ...
    other = pages.open(None, signed_in=False)
    other.goto(pier_server.login_link)
    expect(other.get_by_role("alert")).to_contain_text("This login link did not work")

    # ... and pasting a wrong token, then the right one, signs in.
    other.get_by_label("API token").fill("not-a-real-token")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("alert")).to_contain_text("not accepted")
    other.get_by_label("API token").fill(pier_server.token)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("link", name="pier/slow")).to_be_visible()


def test_signed_out_visitor_is_sent_to_sign_in_and_back(
    pages: Pages, pier_server: PierServer
) -> None:
    page = pages.open("/models/pier/echo", signed_in=False)
    expect(page.get_by_role("heading", name="Sign in to Pier")).to_be_visible()
    page.get_by_label("API token").fill(pier_server.token)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="pier/echo")).to_be_visible()
    assert page.url.endswith("/models/pier/echo")


def test_gallery_cards_search_and_kind_filter(pages: Pages, pier_server: PierServer) -> None:
    with pier_server.api() as client:
        models = client.get("/v1/models").json()["results"]
    total = len(models)
    page = pages.open("/")
    grid = page.get_by_role("list", name="Models")
    expect(grid.get_by_role("listitem")).to_have_count(total)

    card = grid.get_by_role("listitem").filter(has_text="image-filter")
    expect(card).to_contain_text("Image")  # kind
    expect(card).to_contain_text("run")  # run count
    expect(card.locator("img")).to_have_count(1)  # the model's cover image
    expect(grid.get_by_role("listitem").filter(has_text="pier/echo")).to_contain_text("Echoes")

    page.get_by_label("Search models").fill("stream-words")
    expect(grid.get_by_role("listitem")).to_have_count(1)
    expect(grid).to_contain_text("stream-words")
    assert "q=stream-words" in page.url

    page.get_by_label("Search models").fill("")
    page.locator(".chips label", has_text="Image").click()
    images = [m for m in models if m["kind"] == "image"]
    expect(grid.get_by_role("listitem")).to_have_count(len(images))
    expect(grid).to_contain_text("image-filter")
    for badge in grid.locator(".kind-badge").all_inner_texts():
        assert badge.strip() == "Image"

    page.get_by_label("Search models").fill("no such model at all")
    expect(page.get_by_text("No model matches your search.")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(grid.get_by_role("listitem")).to_have_count(total)

    # by its address: other tests on this server make models with "slow" in their names
    grid.locator('a[href="/models/pier/slow"]').first.click()
    expect(page.get_by_role("heading", name="pier/slow")).to_be_visible()
