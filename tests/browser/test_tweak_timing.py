"""Tweak repeats a prediction exactly (the seed the model picked is filled in), the timing
vocabulary is the same on the page and in the JSON, a cancel in the queue shows nothing as run,
ignored prompt words are said beside the prompt, and run counts follow runs."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from tests.browser.conftest import Pages, PierServer, playwright_api
from tests.browser.test_history_tweak import create
from tests.browser.test_run import BOOT, prediction_id, run_view
from tests.conftest import BUILTIN

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
SMALL = {"num_inference_steps": 3, "width": 64, "height": 64}


def ensure_model(server: PierServer, slug: str) -> None:
    with server.api() as client:
        if client.get(f"/v1/models/pier/{slug}").status_code == 200:
            return
    server.cli("models", "add", str(BUILTIN / slug), "--name", f"pier/{slug}")


def duration(seconds: float) -> str:
    """What the page's one duration helper (format.js) writes."""
    s = max(0.0, seconds)
    if s < 1:
        return f"{math.floor(s * 1000)} ms"
    if s < 10:
        return f"{math.floor(s * 10) / 10:.1f} s"
    if s < 60:
        return f"{math.floor(s)} s"
    return f"{math.floor(s / 60)} min {math.floor(s % 60)} s"


def image_bytes(server: PierServer, prediction: dict[str, Any]) -> list[bytes]:
    with server.api() as client:
        return [client.get(url).content for url in prediction["output"]]


def test_tweak_repeats_the_original_exactly(pages: Pages, pier_server: PierServer) -> None:
    ensure_model(pier_server, "text-to-image")
    original = create(pier_server, "pier/text-to-image", {"prompt": "a red star", **SMALL})
    original = pier_server.wait_for(original["id"], ("succeeded",), timeout=120)
    seed = original["metrics"]["seed"]
    assert original["input"].get("seed") is None and isinstance(seed, int)

    page = pages.open(f"/predictions/{original['id']}")
    inputs = page.get_by_role("region", name="Input")
    expect(inputs).to_contain_text(f"the model picked seed {seed}")
    code = page.get_by_role("region", name="Run it again from code")
    expect(code.get_by_label("Python code (run.py)")).to_contain_text(f'"seed": {seed},')
    code.get_by_role("tab", name="cURL").click()
    expect(code.get_by_label("cURL code (shell)")).to_contain_text(f'"seed": {seed}')

    page.get_by_role("link", name="Tweak").click()
    expect(page.get_by_role("spinbutton", name="Seed")).to_have_value(str(seed))
    expect(page.get_by_role("textbox", name="Prompt", exact=True)).to_have_value("a red star")
    # The original stays in the output pane while the form is edited.
    expect(page.locator(".original-label")).to_contain_text(original["id"][:10])
    expect(run_view(page)).to_have_attribute("data-prediction-id", original["id"])
    page.get_by_role("button", name="Run").click()
    expect(run_view(page)).not_to_have_attribute("data-prediction-id", original["id"])
    tweak_id = prediction_id(page)
    tweak = pier_server.wait_for(tweak_id, ("succeeded",), timeout=120)
    assert tweak["tweaked_from"] == original["id"]
    assert tweak["input"]["seed"] == seed and tweak["metrics"]["seed"] == seed
    assert image_bytes(pier_server, tweak) == image_bytes(pier_server, original)

    page.goto(f"{pier_server.url}/predictions/{tweak_id}")
    link = page.get_by_role("link", name=re.compile(r"prediction " + original["id"][:10]))
    expect(link).to_have_attribute("href", f"/predictions/{original['id']}")
    page.get_by_text("Full JSON").click()
    expect(page.get_by_label("Prediction JSON")).to_contain_text(
        f'"tweaked_from": "{original["id"]}"'
    )


def test_ignored_words_are_shown_beside_the_prompt(pages: Pages, pier_server: PierServer) -> None:
    ensure_model(pier_server, "text-to-image")
    page = pages.open("/models/pier/text-to-image")
    page.get_by_role("textbox", name="Prompt", exact=True).fill("a dolphin stacking crates")
    for name, value in SMALL.items():
        page.locator(f'[name="{name}"]').fill(str(value))
    page.get_by_role("button", name="Run").click()
    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT * 2)
    words = "dolphin, stacking, crates"
    prompt_field = page.locator('.field[data-field="prompt"]')
    expect(prompt_field.get_by_role("note")).to_contain_text(words)
    expect(view.locator(".ignored-words")).to_contain_text(words)
    expect(view.locator(".logs")).to_contain_text(
        f"Ignored words this model does not know: {words}"
    )


def test_timing_is_the_same_on_the_page_and_in_the_json(
    pages: Pages, pier_server: PierServer
) -> None:
    page = pages.open("/models/pier/slow")
    count = page.locator(".run-count-text")
    before = int(count.inner_text().split()[0])
    page.get_by_role("spinbutton", name="Steps").fill("6")
    page.get_by_role("spinbutton", name="Delay").fill("0.2")
    page.get_by_role("button", name="Run").click()
    view = run_view(page)
    after = f"{before + 1} run{'' if before + 1 == 1 else 's'}"
    expect(count).to_have_text(after)  # counted as soon as it is made
    # While it runs there is one elapsed time: the total in the badge.
    expect(view.locator(".status-pill")).to_have_text("Running", timeout=BOOT)
    expect(view.locator(".phase-detail")).not_to_contain_text("elapsed")
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    pid = prediction_id(page)
    with pier_server.api() as client:
        body = client.get(f"/v1/predictions/{pid}").json()
    m = body["metrics"]
    total = duration(m["total_time"])
    expect(view.locator(".run-clock")).to_have_text(total)
    expect(view.locator(".phase-detail")).to_have_text(
        f"Finished in {total} (run {duration(m['predict_time'])})"
    )
    expect(view.locator('.metrics [data-timing="total"]')).to_have_text(total)

    page.goto(f"{pier_server.url}/predictions/{pid}")
    card = page.get_by_role("region", name="Timing")
    for key, metric in (("queue", "queue_time"), ("run", "predict_time"), ("total", "total_time")):
        expect(card.locator(f'[data-timing="{key}"]')).to_have_text(duration(m[metric]))
        expect(card).to_contain_text(metric)
    expect(run_view(page).locator(".run-clock")).to_have_text(total)


def test_a_prediction_canceled_in_the_queue_ran_nothing(
    pages: Pages, pier_server: PierServer
) -> None:
    busy = create(pier_server, "pier/slow", {"steps": 200, "delay": 0.05})
    waiting = create(pier_server, "pier/slow", {"steps": 1, "delay": 0.0})
    with pier_server.api() as client:
        canceled = client.post(f"/v1/predictions/{waiting['id']}/cancel").json()
        client.post(f"/v1/predictions/{busy['id']}/cancel")
    assert canceled["status"] == "canceled"
    assert canceled["metrics"]["predict_time"] == 0
    assert canceled["metrics"]["queue_time"] == canceled["metrics"]["total_time"]

    page = pages.open(f"/predictions/{waiting['id']}")
    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Canceled")
    expect(view.locator(".phase-detail")).to_have_text("Canceled before it started.")
    expect(view.locator('[data-step="queued"]')).to_have_class("done")
    expect(view.locator('[data-step="booting"]')).to_have_class("skipped")
    expect(view.locator('[data-step="running"]')).to_have_class("skipped")
