"""New model in the playground: the form, the push command it leads to (run for real), and the
model's version history."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.browser.conftest import PHONE, Pages, PierServer, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
if TYPE_CHECKING:
    from playwright.sync_api import Page
ECHO = Path(__file__).resolve().parents[2] / "pier" / "builtin" / "echo"
SHOTS = os.environ.get("PIER_SHOTS")  # a folder to save screenshots in, when set


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def fits(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"the page is {wide} px wider than the screen"


def run_shell_lines(code: str, folder: Path) -> str:
    """Run the `export …` and `pier push …` lines shown on the page, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIER_")}
    command: list[str] = []
    for line in code.splitlines():
        if match := re.match(r"export (\w+)=(.*)", line):
            env[match[1]] = match[2]
        elif line.startswith("pier push "):
            command = line.split()[1:]
    assert command[:2] == ["push", "."], code
    done = subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *command],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(":")[-1]


def model_folder(tmp: Path, name: str, said: str) -> Path:
    folder = tmp / name
    shutil.copytree(ECHO, folder)
    (folder / "pier.yaml").unlink()  # no description or visibility of its own
    code = (folder / "predict.py").read_text().replace("You said: ", said)
    (folder / "predict.py").write_text(code)
    return folder


def test_create_a_model_push_to_it_and_see_its_versions(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    with pier_server.api() as api:
        taken = {"owner": "admin", "name": "taken-name", "visibility": "private"}
        assert api.post("/v1/models", json=taken).status_code == 201

    page = pages.open("/")
    page.get_by_role("link", name="New model").first.click()
    expect(page).to_have_url(re.compile(r"/models/new$"))
    expect(page.get_by_role("heading", name="New model")).to_be_visible()
    name = page.get_by_role("textbox", name="Name")
    expect(page.get_by_role("radio", name=re.compile("^Private"))).to_be_checked()
    expect(page.get_by_role("combobox", name="Hardware")).to_have_value("cpu")

    create = page.get_by_role("button", name="Create model")
    create.click()
    expect(page.locator("#model-name-error")).to_have_text("A model needs a name.")
    expect(name).to_have_attribute("aria-invalid", "true")
    name.fill("Taken Name")
    expect(name).to_have_value("taken-name")  # lowercase, dashes for spaces, as typed
    create.click()
    expect(page.locator("#model-name-error")).to_contain_text("already exists")  # the server's
    expect(name).to_be_focused()

    name.fill("greeter")
    page.get_by_role("textbox", name="Description").fill("Greets whoever writes to it.")
    page.get_by_text("Every account on this server can see and run it.").click()
    shot(page, "desktop-26-new-model")
    create.click()

    expect(page).to_have_url(re.compile(r"/models/admin/greeter\?created=1$"))
    expect(page.get_by_role("status").filter(has_text="Created admin/greeter")).to_be_visible()
    expect(page.get_by_role("heading", name="greeter")).to_be_visible()
    expect(page.get_by_text("Greets whoever writes to it.")).to_be_visible()
    command = page.get_by_label("Push a version (shell)")
    expect(command).to_contain_text(f"export PIER_URL={pier_server.url}")
    expect(command).to_contain_text("export PIER_TOKEN=<your API token>")
    expect(command).to_contain_text("pier push . admin/greeter")
    page.get_by_role("button", name="Make an API token for this").click()
    expect(page.get_by_text("It is shown only this once")).to_be_visible()
    expect(command).not_to_contain_text("<your API token>")
    shot(page, "desktop-27-push-steps")
    with pier_server.api() as api:
        made = api.get("/v1/models/admin/greeter").json()
    assert made["visibility"] == "public" and made["hardware"] == "cpu"

    first = run_shell_lines(command.inner_text(), model_folder(tmp_path, "v1", "Hello, "))
    token = re.search(r"PIER_TOKEN=(\S+)", command.inner_text())
    assert token is not None
    me = httpx.get(f"{pier_server.url}/v1/account", headers={"Authorization": f"Bearer {token[1]}"})
    assert me.json()["username"] == "admin"  # the token made on the page
    second = run_shell_lines(command.inner_text(), model_folder(tmp_path, "v2", "Hi again, "))
    assert first != second

    page.reload()
    expect(page.get_by_role("combobox", name="Version")).to_have_value(second)
    expect(page.locator(".noun-version")).to_contain_text("fixed snapshot")
    page.get_by_role("tab", name="Versions (2)").click()
    assert "tab=versions" in page.url
    panel = page.get_by_role("tabpanel")
    expect(panel.locator(".noun-list")).to_contain_text("A tweak runs the same version again")
    expect(panel.locator(".noun-list")).to_contain_text("A training teaches a version")
    items = panel.get_by_role("listitem").filter(has=page.locator(".version-id"))
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_have_attribute("data-version", second)  # newest first
    expect(items.nth(0).locator(".latest-badge")).to_have_text("Latest")
    expect(items.nth(1).locator(".latest-badge")).to_have_count(0)
    for item in (items.nth(0), items.nth(1)):
        expect(item.locator(".version-kind")).to_have_text("Pushed")
        expect(item.locator(".version-source")).to_contain_text("Pushed from a model folder")
    expect(panel.get_by_text("Push a new version")).to_be_visible()  # the owner's
    shot(page, "desktop-28-versions")

    items.nth(1).get_by_role("link", name=re.compile("^Run")).click()
    expect(page).to_have_url(re.compile(f"version={first}"))
    expect(page.get_by_role("combobox", name="Version")).to_have_value(first)
    page.get_by_role("textbox", name="Text (required)").fill("Ann")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".run-view .text-output")).to_have_text("Hello, Ann", timeout=120_000)

    phone = pages.open("/models/admin/greeter?tab=versions", viewport=PHONE)
    expect(phone.get_by_role("tab", name="Versions (2)")).to_have_attribute("aria-selected", "true")
    expect(phone.locator(".version-item")).to_have_count(2)
    fits(phone)
    shot(phone, "phone-28-versions")
    phone.goto(pier_server.url + "/models/new")
    expect(phone.get_by_role("textbox", name="Name")).to_be_visible()
    fits(phone)
    shot(phone, "phone-26-new-model")


def test_the_account_menu_leads_to_new_model(pages: Pages) -> None:
    page = pages.open("/predictions")
    page.locator(".account-button").click()
    page.get_by_role("group", name="Account").get_by_role("link", name="New model").click()
    expect(page).to_have_url(re.compile(r"/models/new$"))
    expect(page.get_by_role("heading", name="New model")).to_be_visible()
