"""Deployments in the playground: deploy a model version from its page, see the warm instance
that min_instances keeps loaded, change the deployment and see the new release."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE, Pages, PierServer, playwright_api
from tests.browser.test_layout_a11y import UNNAMED
from tests.browser.test_versions import add_version

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
ECHO = Path(__file__).resolve().parents[2] / "pier" / "builtin" / "echo"
SHOTS = os.environ.get("PIER_SHOTS")  # a folder to save screenshots in, when set


def test_deploy_change_and_see_the_warm_instance(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    shutil.copytree(ECHO, tmp_path / "echo")
    version = add_version(pier_server, tmp_path / "echo", "pier/deployed-echo")

    page = pages.open("/models/pier/deployed-echo")
    page.get_by_role("link", name="Deploy", exact=True).click()
    expect(page.get_by_role("heading", name="Deployments", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Deployments", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    form = page.get_by_role("form", name="New deployment")
    expect(form.get_by_role("combobox", name="Model")).to_have_value("pier/deployed-echo")
    expect(form.get_by_role("combobox", name="Version")).to_have_value(version)
    form.get_by_role("textbox", name="Name").fill("greeter")
    form.get_by_role("spinbutton", name="Min instances").fill("1")
    form.get_by_role("button", name="Deploy", exact=True).click()

    card = page.locator('[data-deployment="admin/greeter"]')
    expect(card.locator("[data-release]")).to_have_text("#1")
    # min_instances 1: a model process is loaded with nothing run (from the heartbeats)
    expect(card.locator(".deploy-instances")).to_have_text("1 warm instance", timeout=60_000)

    change = card.get_by_role("form", name="Change admin/greeter")
    change.get_by_role("spinbutton", name="Max instances").fill("3")
    change.get_by_role("button", name="Save as a new release").click()
    expect(card.locator("[data-release]")).to_have_text("#2")
    expect(card).to_contain_text("min 1 · max 3")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "deployments-desktop.png"), full_page=True)

    change.get_by_role("spinbutton", name="Min instances").fill("5")
    change.get_by_role("button", name="Save as a new release").click()
    expect(change.get_by_role("alert")).to_contain_text("min_instances")  # the server's words
    expect(card.locator("[data-release]")).to_have_text("#2")

    assert page.evaluate(UNNAMED) == [], "a control without a name"

    phone = pages.open("/deployments", viewport=PHONE)
    expect(phone.locator('[data-deployment="admin/greeter"]')).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a phone"
    if SHOTS:
        phone.screenshot(path=str(Path(SHOTS) / "deployments-phone.png"), full_page=True)
