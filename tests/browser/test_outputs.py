"""Outputs by type and the rarer phases, with prediction objects shaped like the server's.

The built-in models cover text and one image; here the page is fed predictions (through
Playwright's request routing) whose outputs are image lists, video, audio, objects, vectors,
failures and a booting model, to check how each one is shown.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from tests.browser.conftest import Pages, PierServer, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
if TYPE_CHECKING:
    from playwright.sync_api import Page, Route


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buffer, "PNG")
    return buffer.getvalue()


def prediction(pid: str, **fields: Any) -> dict[str, Any]:
    body = {
        "id": pid,
        "model": "pier/none",
        "version": "0" * 64,
        "input": {"prompt": "a test"},
        "output": None,
        "logs": "",
        "error": None,
        "status": "succeeded",
        "created_at": "2026-01-01T10:00:00.000000Z",
        "started_at": "2026-01-01T10:00:01.000000Z",
        "completed_at": "2026-01-01T10:00:03.500000Z",
        "metrics": {"predict_time": 2.5, "total_time": 3.5},
        "urls": {},
        "source": "api",
        "data_removed": False,
        "progress": None,
        "queue": None,
    }
    body.update(fields)
    return body


def feed(page: Page, server: PierServer, objects: dict[str, dict[str, Any]]) -> None:
    """Answer GET /v1/predictions/<id> with `objects`, and /fake/<name> with small files."""
    colors = {"a.png": (255, 0, 0), "b.png": (0, 255, 0), "c.png": (0, 0, 255)}

    def answer(route: Route) -> None:
        pid = route.request.url.rsplit("/", 1)[-1]
        if pid in objects:
            route.fulfill(content_type="application/json", body=json.dumps(objects[pid]))
        else:
            route.continue_()

    def files(route: Route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        if name in colors:
            route.fulfill(content_type="image/png", body=png(colors[name]))
        else:
            route.fulfill(content_type="application/octet-stream", body=b"\0" * 64)

    page.route("**/v1/predictions/*", answer)
    page.route("**/fake/*", files)


def test_outputs_render_by_type(pages: Pages, pier_server: PierServer) -> None:
    base = pier_server.url + "/fake/"
    objects = {
        "images": prediction("images", output=[base + "a.png", base + "b.png", base + "c.png"]),
        "video": prediction("video", output=base + "clip.mp4"),
        "audio": prediction("audio", output=base + "voice.wav"),
        "object": prediction(
            "object", output={"label": "cat", "score": 0.93, "mask": base + "mask.bin"}
        ),
        "vector": prediction("vector", output=[round(0.01 * i - 1.9, 3) for i in range(384)]),
        "number": prediction("number", output=42),
    }
    page = pages.open(None)
    feed(page, pier_server, objects)

    page.goto(pier_server.url + "/predictions/images")
    view = page.locator(".run-view")
    images = view.locator("img.output-image")
    expect(images).to_have_count(3)
    expect(view.get_by_role("link", name="Download a.png")).to_have_attribute("download", "a.png")
    view.get_by_role("button", name="Full size b.png").click()
    dialog = page.get_by_role("dialog", name="Full-size image")
    expect(dialog).to_contain_text("2 / 3")
    page.keyboard.press("ArrowRight")
    expect(dialog).to_contain_text("3 / 3")
    expect(dialog.locator("img")).to_have_attribute("src", base + "c.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.goto(pier_server.url + "/predictions/video")
    video = page.locator(".run-view video")
    expect(video).to_have_attribute("src", base + "clip.mp4")
    assert video.evaluate("v => v.controls") is True
    expect(page.get_by_role("link", name="Download clip.mp4")).to_be_visible()

    page.goto(pier_server.url + "/predictions/audio")
    expect(page.locator(".run-view audio")).to_have_attribute("src", base + "voice.wav")
    expect(page.get_by_role("link", name="Download voice.wav")).to_be_visible()

    page.goto(pier_server.url + "/predictions/object")
    output = page.locator(".run-view .json")
    expect(output).to_contain_text('"label": "cat"')
    expect(page.locator(".run-view").get_by_role("link", name="Download mask.bin")).to_be_visible()

    page.goto(pier_server.url + "/predictions/vector")
    expect(page.locator(".vector-summary")).to_contain_text("384-dimensional vector")
    expect(page.get_by_role("img", name="Plot of 384 values")).to_be_visible()

    page.goto(pier_server.url + "/predictions/number")
    expect(page.locator(".scalar-output")).to_have_text("42")


def test_failed_and_booting_predictions(pages: Pages, pier_server: PierServer) -> None:
    objects = {
        "failed": prediction(
            "failed",
            status="failed",
            error="RuntimeError: out of memory",
            logs="Traceback (most recent call last):\n  ...\nRuntimeError: out of memory\n",
        ),
        "booting": prediction(
            "booting",
            status="starting",
            started_at=None,
            completed_at=None,
            metrics={},
            queue={"position": 0, "ahead": 0, "phase": "booting", "estimated_wait": 12.0},
        ),
    }
    page = pages.open(None)
    feed(page, pier_server, objects)

    page.goto(pier_server.url + "/predictions/failed")
    view = page.locator(".run-view")
    expect(view.locator(".status-pill")).to_have_text("Failed")
    expect(view.locator(".error-box")).to_have_text("RuntimeError: out of memory")
    expect(view.locator(".logs")).to_contain_text("Traceback")
    expect(page.get_by_role("link", name="Tweak")).to_be_visible()

    page.goto(pier_server.url + "/predictions/booting")
    view = page.locator(".run-view")
    expect(view.locator(".status-pill")).to_have_text("Booting")
    expect(view.locator(".phase-detail")).to_contain_text("Booting the model")
    expect(view.locator(".phase-detail")).to_contain_text("about 12 s left")
    expect(view.locator('[aria-current="step"]')).to_contain_text("Booting")
    expect(view.get_by_role("button", name="Cancel")).to_be_visible()
