"""Compare (one prompt on several models, side by side, kept in the address) and the history
that tells runs apart (prompt, thumbnail, source, filters) and opens a selection in Compare."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from tests.browser.conftest import PHONE, Pages, PierServer, playwright_api
from tests.browser.test_history_tweak import create
from tests.browser.test_layout_a11y import UNNAMED, overflow
from tests.browser.test_run import BOOT
from tests.browser.test_versions import ECHO, add_version

pytestmark = pytest.mark.e2e
expect = playwright_api().expect


def cell(page: Any, name: str) -> Any:
    return page.get_by_role("listitem", name=name, exact=True)


def add_model(page: Any, name: str) -> None:
    page.get_by_role("combobox", name="Add a model").select_option(name)
    page.get_by_role("button", name="Add").click()


def cell_ids(page: Any) -> list[str]:
    return [
        str(view.get_attribute("data-prediction-id"))
        for view in page.locator(".compare-cell .run-view").all()
    ]


def test_two_models_from_one_prompt_then_the_link_reopens_them(
    pages: Pages, pier_server: PierServer
) -> None:
    page = pages.open("/compare")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare")
    add_model(page, "pier/echo")
    add_model(page, "pier/stream-words")
    page.get_by_role("textbox", name="Prompt").fill("a dolphin stacking crates")
    assert page.evaluate(UNNAMED) == []
    page.get_by_role("button", name="Run all").click()

    echo, words = cell(page, "pier/echo"), cell(page, "pier/stream-words")
    expect(echo.locator(".text-output")).to_have_text(
        "You said: a dolphin stacking crates", timeout=BOOT
    )
    expect(words.locator(".text-output")).to_have_text("a dolphin stacking crates", timeout=BOOT)
    for each in (echo, words):
        expect(each.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
        # The timing vocabulary of every page: queue, run and total, as in the JSON.
        expect(each.locator(".cell-foot")).to_contain_text(
            re.compile(r"Queue \d.* · Run \d.* · Total \d")
        )

    # The address holds the whole comparison, the predictions included.
    query = parse_qs(urlsplit(page.url).query)
    assert query["model"] == ["pier/echo", "pier/stream-words"]
    assert query["prompt"] == ["a dolphin stacking crates"]
    ids = query["predictions"][0].split(",")
    assert ids == cell_ids(page) and len(set(ids)) == 2
    for pid, model in zip(ids, ("pier/echo", "pier/stream-words"), strict=True):
        body = pier_server.wait_for(pid, ("succeeded",))
        assert body["model"] == model
        assert body["source"] == "web"
        assert body["input"]["text"] == "a dolphin stacking crates"

    # A fresh page (another browser context) shows the same results, without running anything.
    fresh = pages.open(urlsplit(page.url).path + "?" + urlsplit(page.url).query)
    expect(fresh.get_by_role("textbox", name="Prompt")).to_have_value("a dolphin stacking crates")
    expect(cell(fresh, "pier/echo").locator(".text-output")).to_have_text(
        "You said: a dolphin stacking crates"
    )
    expect(cell(fresh, "pier/stream-words").locator(".text-output")).to_have_text(
        "a dolphin stacking crates"
    )
    expect(fresh.locator(".compare-cell .run-view")).to_have_count(2)
    assert cell_ids(fresh) == ids
    with pier_server.api() as client:
        listed = client.get("/v1/predictions", params={"source": "all"}).json()["results"]
    assert sum(p["input"].get("text") == "a dolphin stacking crates" for p in listed) == 2


def test_one_model_with_different_inputs_and_a_bad_one(
    pages: Pages, pier_server: PierServer
) -> None:
    page = pages.open(
        "/compare?prompt=hey&model=pier/echo&model=pier/echo"
        '&input2={"repeat":2,"uppercase":true}&model=nobody/nothing'
    )
    expect(page.get_by_role("listitem", name="pier/echo (2)")).to_be_visible()
    expect(cell(page, "nobody/nothing")).to_contain_text("There is no model nobody/nothing")
    page.get_by_role("button", name="Remove nobody/nothing").click()
    expect(page.locator(".compare-cell")).to_have_count(2)
    assert "nobody" not in page.url

    second = page.get_by_role("listitem", name="pier/echo (2)")
    second.locator("summary").click()
    box = second.get_by_role("textbox", name="Other inputs of pier/echo (2) (JSON)")
    expect(box).to_have_value(re.compile(r'"repeat": 2'))
    box.fill("{not json")
    expect(second.locator(".field-error")).to_contain_text("JSON object")
    box.fill('{"repeat": 3}')
    page.get_by_role("button", name="Run all").click()
    expect(cell(page, "pier/echo").locator(".text-output")).to_have_text(
        "You said: hey", timeout=BOOT
    )
    expect(second.locator(".text-output")).to_have_text("You said: hey hey hey", timeout=BOOT)
    assert parse_qs(urlsplit(page.url).query)["input2"] == ['{"repeat":3}']


def test_cells_stack_on_a_phone(pages: Pages, pier_server: PierServer) -> None:
    one = create(pier_server, "pier/echo", {"text": "stacked " * 12})
    two = create(pier_server, "pier/stream-words", {"text": "stacked " * 12})
    page = pages.open(f"/compare?predictions={one['id']},{two['id']}", viewport=PHONE)
    cells = page.locator(".compare-cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(1).locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert first and second
    assert second["y"] >= first["y"] + first["height"], "the cells should stack"
    assert abs(first["x"] - second["x"]) < 1 and first["width"] > PHONE["width"] * 0.85
    assert overflow(page) == 0


def png_data_uri(color: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_history_shows_prompts_thumbnails_and_sources_and_filters(
    pages: Pages, pier_server: PierServer
) -> None:
    from_api = create(pier_server, "pier/echo", {"text": "from the api, history test"})
    image = create(
        pier_server, "pier/image-filter", {"image": png_data_uri((0, 0, 255)), "filter": "invert"}
    )
    with pier_server.api() as client:
        made = client.post(
            "/v1/models/pier/echo/predictions",
            json={"input": {"text": "from the playground, history test"}},
            headers={"X-Pier-Source": "web"},
        )
    assert made.status_code == 201, made.text
    from_web = made.json()
    stopped = create(pier_server, "pier/slow", {"steps": 500, "delay": 0.1})
    with pier_server.api() as client:
        client.post(f"/v1/predictions/{stopped['id']}/cancel")
    for p in (from_api, image, from_web):
        pier_server.wait_for(p["id"], ("succeeded",))
    pier_server.wait_for(stopped["id"], ("canceled",))

    page = pages.open("/predictions")
    rows = page.get_by_role("list", name="Predictions").get_by_role("listitem")
    api_row = rows.filter(has_text=from_api["id"][:10])
    expect(api_row.locator(".h-prompt")).to_have_text("from the api, history test")
    expect(api_row.locator(".source-badge")).to_have_text("API")
    expect(api_row.locator(".h-duration")).to_have_text(
        re.compile(r"Total time \d+(\.\d+)? (ms|s)$")
    )
    web_row = rows.filter(has_text=from_web["id"][:10])
    expect(web_row.locator(".source-badge")).to_have_text("Playground")
    thumb = rows.filter(has_text=image["id"][:10]).locator(".thumb img")
    expect(thumb).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 48", arg=thumb.element_handle()
    )
    assert page.evaluate(UNNAMED) == []

    # From: the playground only (kept in the address, asked of the server).
    page.get_by_role("combobox", name="From").select_option(label="Playground")
    expect(page.get_by_role("list", name="Predictions")).not_to_have_attribute("aria-busy", "true")
    expect(rows.filter(has_text=from_api["id"][:10])).to_have_count(0)
    expect(rows.filter(has_text=from_web["id"][:10])).to_have_count(1)
    assert set(rows.locator(".source-badge").all_inner_texts()) == {"Playground"}
    assert "source=web" in page.url

    # Status and model together, and a reload keeps them.
    page.get_by_role("combobox", name="From").select_option(label="API")
    page.get_by_role("combobox", name="Status").select_option(label="Canceled")
    page.get_by_role("combobox", name="Model").select_option("pier/slow")
    expect(page.get_by_role("list", name="Predictions")).not_to_have_attribute("aria-busy", "true")
    expect(rows.filter(has_text=stopped["id"][:10])).to_have_count(1)
    assert set(rows.locator(".status-pill").all_inner_texts()) == {"Canceled"}
    page.reload()
    expect(page.get_by_role("combobox", name="Status")).to_have_value("canceled")
    expect(rows.filter(has_text=stopped["id"][:10])).to_have_count(1)
    assert set(rows.locator(".h-model-name").all_inner_texts()) == {"pier/slow"}


def test_selecting_two_predictions_opens_them_in_compare(
    pages: Pages, pier_server: PierServer
) -> None:
    one = create(pier_server, "pier/echo", {"text": "left side", "repeat": 2})
    two = create(pier_server, "pier/stream-words", {"text": "right side"})
    for p in (one, two):
        pier_server.wait_for(p["id"], ("succeeded",))

    page = pages.open("/predictions")
    compare = page.get_by_role("button", name=re.compile("^Compare"))
    expect(compare).to_be_disabled()
    page.get_by_role("checkbox", name=re.compile(f"\\({one['id'][:10]}\\)")).check()
    page.get_by_role("checkbox", name=re.compile(f"\\({two['id'][:10]}\\)")).check()
    expect(compare).to_have_text("Compare 2")
    compare.click()

    expect(page).to_have_url(re.compile(r"/compare\?"))
    expect(page.locator(".compare-cell .run-view")).to_have_count(2)
    assert sorted(cell_ids(page)) == sorted([one["id"], two["id"]])
    expect(cell(page, "pier/echo").locator(".text-output")).to_have_text(
        "You said: left side left side"
    )
    expect(cell(page, "pier/stream-words").locator(".text-output")).to_have_text("right side")
    # Rebuilt from the predictions: their versions, and inputs other than the prompt.
    query = parse_qs(urlsplit(page.url).query)
    assert sorted(query["model"]) == sorted(
        [f"pier/echo:{one['version']}", f"pier/stream-words:{two['version']}"]
    )
    echo_cell = query["model"].index(f"pier/echo:{one['version']}") + 1
    assert query[f"input{echo_cell}"] == ['{"repeat":2}']


def test_two_versions_of_one_model(pages: Pages, pier_server: PierServer, tmp_path: Path) -> None:
    first, second = tmp_path / "v1", tmp_path / "v2"
    shutil.copytree(ECHO, first)
    shutil.copytree(ECHO, second)
    code = (second / "predict.py").read_text().replace("You said: ", "Version two heard: ")
    (second / "predict.py").write_text(code)
    old_id = add_version(pier_server, first, "pier/compare-echo")
    new_id = add_version(pier_server, second, "pier/compare-echo")

    page = pages.open("/compare?prompt=hi&model=pier/compare-echo&model=pier/compare-echo")
    picker = page.get_by_role("combobox", name="Version of pier/compare-echo (2)")
    expect(picker.locator("option")).to_have_count(3)  # latest, then each version
    picker.select_option(old_id)
    assert f"model=pier%2Fcompare-echo%3A{old_id}" in page.url
    page.get_by_role("button", name="Run all").click()
    latest = cell(page, "pier/compare-echo")
    older = page.get_by_role("listitem", name="pier/compare-echo (2)")
    expect(latest.locator(".text-output")).to_have_text("Version two heard: hi", timeout=BOOT)
    expect(older.locator(".text-output")).to_have_text("You said: hi", timeout=BOOT)
    ids = cell_ids(page)
    assert [pier_server.wait_for(i, ("succeeded",))["version"] for i in ids] == [new_id, old_id]


def test_a_prediction_and_a_model_page_lead_to_compare(
    pages: Pages, pier_server: PierServer
) -> None:
    done = create(pier_server, "pier/echo", {"text": "start from here"})
    pier_server.wait_for(done["id"], ("succeeded",))
    page = pages.open(f"/predictions/{done['id']}")
    page.get_by_role("link", name="Compare with other models").click()
    expect(page.get_by_role("textbox", name="Prompt")).to_have_value("start from here")
    expect(cell(page, "pier/echo").locator(".text-output")).to_have_text(
        "You said: start from here"
    )
    add_model(page, "pier/stream-words")
    page.get_by_role("button", name="Run all").click()
    expect(cell(page, "pier/stream-words").locator(".text-output")).to_have_text(
        "start from here", timeout=BOOT
    )

    page.goto(pier_server.url + "/models/pier/stream-words")
    page.get_by_role("link", name="Compare with other models").click()
    expect(page).to_have_url(re.compile(r"/compare\?model=pier%2Fstream-words$"))
    expect(page.locator(".compare-cell")).to_have_count(1)
