"""Browser tier: Debian's Chromium, driven by Playwright, against a real `pier serve`.

One server runs for the whole session (port 0, temporary data dir). Every test gets a fresh
browser context that is already signed in (its token in localStorage), except the sign-in test,
which uses the one-time login link the server printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, LIGHT_MODELS, PierServer

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` Python package is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    return None


def _require_browser(module_level: bool = False) -> None:
    missing = _missing_browser()
    if missing is None:
        return
    # In CI a missing browser must fail the run; on a laptop it only skips this tier.
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run: {missing}", pytrace=False)
    pytest.skip(f"browser tests skipped: {missing}", allow_module_level=module_level)


def playwright_api() -> Any:
    """`playwright.sync_api`, or a skip (a failure under CI) when the browser stack is missing."""
    _require_browser(module_level=True)
    import playwright.sync_api

    return playwright.sync_api


@pytest.fixture(scope="package")
def pier_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PierServer]:
    _require_browser()
    server = PierServer(tmp_path_factory.mktemp("pier-browser") / "data").start(LIGHT_MODELS)
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser(pier_server: PierServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """Opens signed-in (or signed-out) pages and checks that no script error happened."""

    def __init__(self, browser: Any, server: PierServer) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(self, path: str = "/", *, viewport: dict[str, int] = DESKTOP, signed_in: bool = True):
        context = self.browser.new_context(viewport=viewport, accept_downloads=True)
        context.set_default_timeout(20_000)
        if signed_in:
            context.add_init_script(
                f"if (!localStorage.getItem('pier.token')) "
                f"localStorage.setItem('pier.token', {self.server.token!r});"
            )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{exc}"))
        page.on("console", self._console)
        if path is not None:
            page.goto(self.server.url + path)
        return page

    def _console(self, message: Any) -> None:
        # The browser logs every 4xx response; the tests provoke some on purpose.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, pier_server: PierServer) -> Iterator[Pages]:
    opened = Pages(browser, pier_server)
    yield opened
    opened.close()
    assert not opened.errors, f"errors in the page: {opened.errors}"
