"""Phones (390 px), labels on every control, and keyboard-only use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import PHONE, Pages, PierServer, playwright_api
from tests.browser.test_history_tweak import create
from tests.browser.test_run import BOOT, run_view

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

MODEL_PAGES = ["pier/echo", "pier/slow", "pier/stream-words", "pier/image-filter"]

# Every form control needs a name a screen reader can read; every button and link too.
UNNAMED = """() => {
  const named = (el) =>
    (el.labels && el.labels.length && [...el.labels].some((l) => l.textContent.trim())) ||
    (el.getAttribute("aria-label") || "").trim() ||
    (el.getAttribute("aria-labelledby") || "").split(" ").some(
      (id) => id && document.getElementById(id) && document.getElementById(id).textContent.trim());
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (!named(el)) problems.push(el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    const text = (el.textContent || "").trim() || (el.getAttribute("aria-label") || "").trim();
    if (!text && !el.closest("[hidden]")) problems.push(el.outerHTML.slice(0, 120));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(img.outerHTML.slice(0, 120));
  }
  return problems;
}"""


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0 when it fits)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def settle(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")


def test_every_page_fits_a_phone(pages: Pages, pier_server: PierServer) -> None:
    done = create(pier_server, "pier/stream-words", {"text": "a phone sized " * 30})
    pier_server.wait_for(done["id"], ("succeeded",))
    page = pages.open("/", viewport=PHONE)
    paths = [
        "/",
        "/predictions",
        f"/predictions/{done['id']}",
        *(f"/models/{m}" for m in MODEL_PAGES),
        "/models/pier/echo?tab=api",
        "/models/pier/image-filter?tab=readme",
    ]
    for path in paths:
        page.goto(pier_server.url + path)
        settle(page)
        assert overflow(page) == 0, f"{path} is wider than the phone"

    # A run on the phone: the output comes into view and fits too.
    page.goto(pier_server.url + "/models/pier/echo")
    page.get_by_role("textbox", name="Text (required)").fill("small screen " * 20)
    page.get_by_role("button", name="Run").click()
    expect(run_view(page).locator(".text-output")).to_contain_text("small screen", timeout=BOOT)
    expect(run_view(page)).to_be_in_viewport()
    assert overflow(page) == 0

    signed_out = pages.open("/login", viewport=PHONE, signed_in=False)
    settle(signed_out)
    assert overflow(signed_out) == 0


def test_every_control_has_a_label(pages: Pages, pier_server: PierServer) -> None:
    page = pages.open("/")
    settle(page)
    assert page.evaluate(UNNAMED) == [], "/"
    with pier_server.api() as client:
        models = [f"{m['owner']}/{m['name']}" for m in client.get("/v1/models").json()["results"]]
    for model in models:
        for tab in ("", "?tab=api"):
            page.goto(f"{pier_server.url}/models/{model}{tab}")
            settle(page)
            assert page.evaluate(UNNAMED) == [], model + tab
    page.goto(pier_server.url + "/predictions")
    settle(page)
    assert page.evaluate(UNNAMED) == []


def test_keyboard_only(pages: Pages) -> None:
    page = pages.open("/models/pier/echo")
    settle(page)

    # The first Tab reaches the skip link, which jumps to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()

    # Tabs move with the arrow keys.
    playground = page.get_by_role("tab", name="Playground")
    playground.focus()
    page.keyboard.press("ArrowRight")
    api = page.get_by_role("tab", name="API")
    expect(api).to_be_focused()
    expect(api).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(playground).to_have_attribute("aria-selected", "true")

    # Fill the whole form and run it without the mouse.
    page.get_by_role("textbox", name="Text (required)").focus()
    page.keyboard.type("keys only")
    page.keyboard.press("Tab")
    switch = page.get_by_role("switch", name="Uppercase")
    expect(switch).to_be_focused()
    page.keyboard.press("Space")
    expect(switch).to_be_checked()
    page.keyboard.press("Tab")
    repeat = page.get_by_role("spinbutton", name="Repeat")
    expect(repeat).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(repeat).to_have_value("2")
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring != "none", "the focused field shows no focus ring"
    page.keyboard.press("Control+Enter")
    expect(run_view(page).locator(".text-output")).to_have_text(
        "You said: KEYS ONLY KEYS ONLY", timeout=BOOT
    )

    # The account menu opens with the keyboard and closes with Escape.
    account = page.locator(".account-button")
    account.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Account and tokens")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Account and tokens")).to_be_hidden()
    expect(account).to_be_focused()
