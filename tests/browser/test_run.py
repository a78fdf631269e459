"""Running models through the generated form: checks, outputs, streaming, files, Cancel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from tests.browser.conftest import Pages, PierServer, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
if TYPE_CHECKING:
    from playwright.sync_api import Page, Route
BOOT = 60_000  # the first prediction of a version starts its model process


def run_view(page: Page) -> Any:
    return page.locator(".run-view")


def prediction_id(page: Page) -> str:
    view = run_view(page)
    expect(view).to_have_attribute("data-prediction-id", re.compile(r"\w+"))
    return str(view.get_attribute("data-prediction-id"))


def test_form_checks_limits_in_the_browser_then_runs(pages: Pages, pier_server: PierServer) -> None:
    page = pages.open("/models/pier/echo")
    run = page.get_by_role("button", name="Run")
    text = page.get_by_role("textbox", name="Text (required)")
    repeat = page.get_by_role("spinbutton", name="Repeat")
    expect(repeat).to_have_value("1")  # the schema's default

    run.click()
    text_error = page.locator('[data-field="text"] .field-error')
    expect(text_error).to_have_text("This field is required.")
    expect(text).to_be_focused()
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("One field needs attention")

    text.fill("hello")
    repeat.fill("11")
    run.click()
    repeat_error = page.locator('[data-field="repeat"] .field-error')
    expect(repeat_error).to_have_text("Must be between 1 and 10.")
    expect(text_error).to_be_hidden()
    repeat.fill("2.5")
    expect(repeat_error).to_have_text("Enter a whole number.")  # re-checked as you type
    repeat.fill("2")
    expect(repeat_error).to_be_hidden()
    page.get_by_role("switch", name="Uppercase").check()
    run.click()

    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    expect(view.locator(".text-output")).to_have_text("You said: HELLO HELLO")
    expect(view.get_by_role("button", name="Cancel")).to_be_hidden()
    for label in ("Queue", "Run", "Total"):
        expect(view.locator(".metrics")).to_contain_text(label)
    pid = prediction_id(page)
    assert f"prediction={pid}" in page.url

    with pier_server.api() as client:
        body = client.get(f"/v1/predictions/{pid}").json()
    assert body["status"] == "succeeded"
    assert body["input"]["text"] == "hello"
    assert body["input"]["uppercase"] is True
    assert body["input"]["repeat"] == 2
    assert body["source"] == "web"

    # A reload shows the same prediction in the output pane.
    page.reload()
    expect(run_view(page).locator(".text-output")).to_have_text("You said: HELLO HELLO")


def test_server_validation_messages_land_next_to_their_fields(pages: Pages) -> None:
    page = pages.open("/models/pier/echo")
    problem = {
        "title": "Input validation failed",
        "detail": "- input.text: too rude",
        "status": 422,
        "invalid_fields": [
            {"type": "value_error", "field": "input.text", "description": "too rude"},
            {"type": "value_error", "field": "input.extra", "description": "not allowed"},
        ],
    }

    def reject(route: Route) -> None:
        if route.request.method == "POST":
            route.fulfill(
                status=422, content_type="application/problem+json", body=json.dumps(problem)
            )
        else:
            route.continue_()

    page.route("**/v1/predictions", reject)
    page.get_by_role("textbox", name="Text (required)").fill("something rude")
    page.get_by_role("button", name="Run").click()
    expect(page.locator('[data-field="text"] .field-error')).to_have_text("too rude")
    summary = page.locator(".form-summary")
    expect(summary).to_contain_text("2 fields need attention")
    expect(summary).to_contain_text("extra: not allowed")
    expect(page.get_by_role("textbox", name="Text (required)")).to_be_focused()


def test_text_streams_in_word_by_word(pages: Pages) -> None:
    page = pages.open("/models/pier/stream-words")
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/streams/" in r.url else None)
    words = " ".join(f"word{i}" for i in range(12))
    page.get_by_role("textbox", name="Text", exact=True).fill(words)
    page.get_by_role("spinbutton", name="Delay").fill("0.3")
    page.get_by_role("button", name="Run").click()

    view = run_view(page)
    output = view.locator(".text-output")
    expect(output).to_contain_text("word2", timeout=BOOT)
    partial = output.inner_text()
    assert "word11" not in partial, "the whole text arrived at once"
    expect(view.locator(".caret")).to_have_count(1)  # still streaming
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=30_000)
    expect(output).to_have_text(words)
    expect(view.locator(".caret")).to_have_count(0)
    assert streams, "the page did not follow the prediction's event stream"


def test_cancel_a_running_prediction(pages: Pages, pier_server: PierServer) -> None:
    page = pages.open("/models/pier/slow")
    page.get_by_role("spinbutton", name="Steps").fill("400")
    page.get_by_role("spinbutton", name="Delay").fill("0.05")
    page.get_by_role("button", name="Run").click()

    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Running", timeout=BOOT)
    expect(view.locator(".progress-text")).to_contain_text(re.compile(r"step \d+ of 400"))
    expect(view.get_by_role("progressbar")).to_have_attribute("aria-valuenow", re.compile(r"\d+"))
    expect(view.locator(".phase-detail")).to_contain_text("left")
    expect(view.locator(".logs")).to_contain_text("working")
    pid = prediction_id(page)

    view.get_by_role("button", name="Cancel").click()
    expect(view.locator(".status-pill")).to_have_text("Canceled", timeout=15_000)
    expect(view.get_by_role("button", name="Cancel")).to_be_hidden()
    assert pier_server.wait_for(pid, ("canceled",), timeout=15)["status"] == "canceled"


def test_queue_position_shows_and_a_queued_prediction_cancels(
    pages: Pages, pier_server: PierServer
) -> None:
    with pier_server.api() as client:
        blocker = client.post(
            "/v1/models/pier/slow/predictions", json={"input": {"steps": 600, "delay": 0.05}}
        ).json()
    pier_server.wait_for(blocker["id"], ("processing",))
    try:
        page = pages.open("/models/pier/slow")
        page.get_by_role("spinbutton", name="Steps").fill("3")
        page.get_by_role("button", name="Run").click()
        view = run_view(page)
        expect(view.locator(".status-pill")).to_have_text("Queued")
        detail = view.locator(".phase-detail")
        expect(detail).to_contain_text("Position 1 in the queue")
        expect(detail).to_contain_text("1 job ahead")
        pid = prediction_id(page)

        view.get_by_role("button", name="Cancel").click()
        expect(view.locator(".status-pill")).to_have_text("Canceled", timeout=15_000)
        body = pier_server.wait_for(pid, ("canceled",), timeout=15)
        assert body["output"] is None  # it never ran
    finally:
        with pier_server.api() as client:
            client.post(f"/v1/predictions/{blocker['id']}/cancel")
        pier_server.wait_for(blocker["id"], ("canceled", "succeeded", "failed"))


def test_image_upload_output_gallery_and_its_python_code(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    picture = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (255, 0, 0)).save(picture)
    page = pages.open("/models/pier/image-filter")

    page.get_by_label("Image (required)").set_input_files(picture)
    expect(page.locator(".file-item")).to_contain_text("Uploaded")
    expect(page.locator(".file-item")).to_contain_text("red.png")
    page.get_by_role("combobox", name="Filter").select_option(label="invert")
    page.get_by_role("button", name="Run").click()

    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    image = view.locator("img.output-image")
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 48]
    src = image.get_attribute("src")
    download = view.get_by_role("link", name=re.compile("Download"))
    assert download.get_attribute("href") == src

    view.get_by_role("button", name=re.compile("Full size")).click()
    dialog = page.get_by_role("dialog", name="Full-size image")
    expect(dialog).to_be_visible()
    expect(dialog.locator("img")).to_have_attribute("src", src or "")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The Python code for this form (with the uploaded file's URL) makes the same image.
    page.get_by_role("tab", name="API").click()
    code = page.get_by_label("Python code (run.py)").inner_text()
    assert '"filter": "invert"' in code
    (tmp_path / "run.py").write_text(code)
    result = run_python(tmp_path, pier_server)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(".png")  # it prints the output's URL
    with Image.open(tmp_path / result.stdout.strip().rsplit("/", 1)[-1]) as made:
        assert made.size == (64, 48)
        assert made.convert("RGB").getpixel((10, 10)) == (0, 255, 255)


def run_python(folder: Path, server: PierServer) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "REPLICATE_API_TOKEN": server.token,
        "REPLICATE_POLL_INTERVAL": "0.1",
    }
    return subprocess.run(
        [sys.executable, "run.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
