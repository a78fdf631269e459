"""The version picker: running an older version of a model from the playground."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import Pages, PierServer, playwright_api
from tests.browser.test_run import BOOT, prediction_id, run_view

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
ECHO = Path(__file__).resolve().parents[2] / "pier" / "builtin" / "echo"


def add_version(server: PierServer, directory: Path, name: str) -> str:
    """Register `directory` as a new version of `name` with `pier models add`; its id."""
    return (
        server.cli("models", "add", str(directory), "--name", name)
        .strip()
        .split(":")[-1]
        .split()[0]
    )


def test_version_picker_runs_the_chosen_version(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    first = tmp_path / "v1"
    shutil.copytree(ECHO, first)
    second = tmp_path / "v2"
    shutil.copytree(ECHO, second)
    code = (second / "predict.py").read_text().replace("You said: ", "Version two heard: ")
    (second / "predict.py").write_text(code)
    old_id = add_version(pier_server, first, "pier/versioned-echo")
    new_id = add_version(pier_server, second, "pier/versioned-echo")
    assert old_id != new_id

    page = pages.open("/models/pier/versioned-echo")
    picker = page.get_by_role("combobox", name="Version")
    expect(picker.locator("option")).to_have_count(2)
    expect(picker).to_have_value(new_id)
    expect(picker.locator("option").first).to_contain_text("(latest)")

    page.get_by_role("textbox", name="Text (required)").fill("hi")
    page.get_by_role("button", name="Run").click()
    expect(run_view(page).locator(".text-output")).to_have_text(
        "Version two heard: hi", timeout=BOOT
    )

    picker.select_option(old_id)
    assert f"version={old_id}" in page.url
    expect(page.get_by_role("textbox", name="Text (required)")).to_have_value("hi")  # kept
    page.get_by_role("button", name="Run").click()
    expect(run_view(page).locator(".text-output")).to_have_text("You said: hi", timeout=BOOT)
    assert pier_server.wait_for(prediction_id(page), ("succeeded",))["version"] == old_id

    page.get_by_role("tab", name="API").click()
    expect(page.get_by_label("Python code (run.py)")).to_contain_text(
        f'"pier/versioned-echo:{old_id}"'
    )
