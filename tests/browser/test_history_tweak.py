"""History, the prediction page, and Tweak (a new prediction of the same version)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import Pages, PierServer, playwright_api
from tests.browser.test_run import BOOT, prediction_id, run_python, run_view

pytestmark = pytest.mark.e2e
expect = playwright_api().expect


def create(server: PierServer, model: str, input: dict[str, Any]) -> dict[str, Any]:
    with server.api() as client:
        response = client.post(f"/v1/models/{model}/predictions", json={"input": input})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_prediction_page_and_tweak(pages: Pages, pier_server: PierServer) -> None:
    old = create(pier_server, "pier/echo", {"text": "tweak me", "repeat": 3})
    old = pier_server.wait_for(old["id"], ("succeeded",))

    page = pages.open(f"/predictions/{old['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(old["id"])
    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded")
    expect(view.locator(".text-output")).to_have_text("You said: tweak me tweak me tweak me")
    inputs = page.get_by_role("region", name="Input")
    expect(inputs).to_contain_text("tweak me")
    expect(inputs).to_contain_text("Repeat")
    timing = page.get_by_role("region", name="Timing")
    for label in ("Created", "Started", "Completed", "Queue", "Setup", "Run", "Total"):
        expect(timing).to_contain_text(label)
    page.get_by_text("Full JSON").click()
    expect(page.get_by_label("Prediction JSON")).to_contain_text(f'"id": "{old["id"]}"')

    page.get_by_role("link", name="Tweak").click()
    text = page.get_by_role("textbox", name="Text (required)")
    expect(text).to_have_value("tweak me")
    expect(page.get_by_role("spinbutton", name="Repeat")).to_have_value("3")
    expect(page.locator(".tweak-notice")).to_contain_text("same version")
    text.fill("tweaked")
    page.get_by_role("button", name="Run").click()
    expect(run_view(page).locator(".text-output")).to_have_text(
        "You said: tweaked tweaked tweaked", timeout=BOOT
    )

    new_id = prediction_id(page)
    assert new_id != old["id"]
    new = pier_server.wait_for(new_id, ("succeeded",))
    assert new["version"] == old["version"]
    assert new["input"]["text"] == "tweaked"
    assert new["input"]["repeat"] == 3


def test_history_lists_predictions_and_follows_running_ones(
    pages: Pages, pier_server: PierServer
) -> None:
    done = create(pier_server, "pier/echo", {"text": "for the history"})
    pier_server.wait_for(done["id"], ("succeeded",))
    running = create(pier_server, "pier/slow", {"steps": 15, "delay": 0.2})

    page = pages.open("/predictions")
    rows = page.get_by_role("list", name="Predictions").get_by_role("listitem")
    newest = rows.first
    expect(newest).to_contain_text("pier/slow")
    expect(newest).to_contain_text(running["id"][:10])
    expect(newest.locator(".status-pill")).to_have_text(
        re.compile("Queued|Starting|Booting|Running")
    )
    # The row follows the prediction to its end without a reload.
    expect(newest.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    expect(newest.locator(".h-duration")).to_have_text(re.compile(r"\d+(\.\d+)? (ms|s)"))

    row = rows.filter(has_text=done["id"][:10])
    expect(row).to_contain_text("pier/echo")
    expect(row.locator(".text-thumb")).to_contain_text("You said: for the history")
    expect(row.locator(".h-created")).to_contain_text(re.compile("just now|minute"))
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(done["id"])

    # Filtered by model from the model page's link.
    page.goto(pier_server.url + "/models/pier/echo")
    page.get_by_role("link", name="Your predictions").click()
    expect(page.get_by_role("combobox", name="Model")).to_have_value("pier/echo")
    expect(page.get_by_role("list", name="Predictions")).not_to_have_attribute("aria-busy", "true")
    models = rows.locator(".h-model-name").all_inner_texts()
    assert models and set(models) == {"pier/echo"}


def test_code_tab_matches_the_form_and_its_code_runs(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    page = pages.open("/models/pier/echo")
    page.get_by_role("textbox", name="Text (required)").fill("from the snippet")
    page.get_by_role("spinbutton", name="Repeat").fill("2")
    page.get_by_role("tab", name="API").click()
    assert "tab=api" in page.url

    python = page.get_by_label("Python code (run.py)").inner_text()
    assert f'replicate.Client(base_url="{pier_server.url}")' in python
    assert '"text": "from the snippet",' in python
    assert "REPLICATE_API_TOKEN" in python and pier_server.token not in python
    (tmp_path / "run.py").write_text(python)
    result = run_python(tmp_path, pier_server)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "You said: from the snippet from the snippet"

    page.get_by_role("tab", name="Node.js").click()
    node = page.get_by_label("Node.js code (run.mjs)").inner_text()
    assert f'baseUrl: "{pier_server.url}/v1"' in node
    assert "auth: process.env.REPLICATE_API_TOKEN" in node
    assert re.search(r'replicate\.run\("pier/echo:[0-9a-f]{64}"', node)
    assert 'text: "from the snippet",' in node

    page.get_by_role("tab", name="cURL").click()
    curl = page.get_by_label("cURL code (shell)").inner_text()
    assert f"{pier_server.url}/v1/predictions" in curl
    assert shutil.which("curl"), "running the cURL code needs curl (apt-get install curl)"
    shell = subprocess.run(
        ["bash", "-c", curl],
        env={"PATH": "/usr/bin:/bin", "REPLICATE_API_TOKEN": pier_server.token},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert '"output":"You said: from the snippet from the snippet"' in shell.stdout, shell

    # Editing the form changes the code at once.
    page.get_by_role("tab", name="Playground").click()
    page.get_by_role("textbox", name="Text (required)").fill("changed")
    page.get_by_role("tab", name="API").click()
    page.get_by_role("tab", name="Python").click()
    expect(page.get_by_label("Python code (run.py)")).to_contain_text('"text": "changed"')


def test_tweak_keeps_an_uploaded_input_file(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 255)).save(buffer, "PNG")
    with pier_server.api() as client:
        upload = client.post(
            "/v1/files", files={"content": ("blue.png", buffer.getvalue(), "image/png")}
        )
    assert upload.status_code == 201, upload.text
    file_url = upload.json()["urls"]["get"]
    old = create(pier_server, "pier/image-filter", {"image": file_url, "filter": "invert"})
    pier_server.wait_for(old["id"], ("succeeded",))

    page = pages.open(f"/predictions/{old['id']}")
    inputs = page.get_by_role("region", name="Input")
    expect(inputs.locator(".own-file")).to_contain_text("blue.png")  # the name, not the id
    thumb = inputs.locator(".own-file img")
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.naturalWidth === 40", arg=thumb.element_handle())
    expect(inputs.get_by_role("link", name="Download blue.png")).to_have_attribute(
        "download", "blue.png"
    )

    page.get_by_role("link", name="Tweak").click()
    expect(page.locator(".file-item")).to_contain_text("blue.png")
    page.get_by_role("combobox", name="Filter").select_option(label="grayscale")
    page.get_by_role("button", name="Run").click()
    expect(run_view(page).locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    new = pier_server.wait_for(prediction_id(page), ("succeeded",))
    assert new["input"]["image"] == file_url
    assert new["input"]["filter"] == "grayscale"


def test_delete_a_prediction_from_its_page(pages: Pages, pier_server: PierServer) -> None:
    made = create(pier_server, "pier/echo", {"text": "delete me"})
    made = pier_server.wait_for(made["id"], ("succeeded",))
    page = pages.open(f"/predictions/{made['id']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/predictions$"))
    with pier_server.api() as client:
        assert client.get(f"/v1/predictions/{made['id']}").status_code == 404
