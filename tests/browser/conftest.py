"""Browser tier: Debian's Chromium, driven by Playwright, against a real `pier serve`.

One server runs for the whole session (port 0, temporary data dir). Every test gets a fresh
browser context that is already signed in (its token in localStorage), except the sign-in test,
which uses the one-time login link the server printed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("PIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


def _require_browser() -> None:
    missing = _missing_browser()
    if missing is None:
        return
    # In CI a missing browser must fail the run; on a laptop it only skips this tier.
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run: {missing}", pytrace=False)
    pytest.skip(f"browser tests skipped: {missing}")


@dataclass
class PierServer:
    """A `pier serve` subprocess and what it printed at start."""

    data_dir: Path
    process: subprocess.Popen[str] | None = None
    url: str = ""
    token: str = ""
    login_link: str = ""
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 90.0) -> PierServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pier.cli.main import main; main()",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pier serve did not start:\n" + "".join(self.output))
        return self

    def _read(self, ready: threading.Event) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.output.append(line)
            if match := re.search(r"Pier is running at (\S+)", line):
                self.url = match.group(1)
            if match := re.search(r"Admin API token: (\S+)", line):
                self.token = match.group(1)
            if match := re.search(r"(https?://\S+/login\?code=\S+)", line):
                self.login_link = match.group(1)
            if self.url and self.token and self.login_link:
                ready.set()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process and self.process.stdout:
            self.process.stdout.close()

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def wait_for(self, prediction_id: str, statuses: tuple[str, ...], timeout: float = 60.0) -> Any:
        """Poll the API until the prediction reaches one of `statuses`."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                body = client.get(f"/v1/predictions/{prediction_id}").json()
                if body["status"] in statuses:
                    return body
                assert time.monotonic() < deadline, f"still {body['status']}: {body}"
                time.sleep(0.1)


@pytest.fixture(scope="session")
def pier_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PierServer]:
    _require_browser()
    server = PierServer(tmp_path_factory.mktemp("pier-browser") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
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
