"""Training from the playground: a version whose cog.yaml has `train:` gets a Train tab with a
form generated from its TrainingInput and a choice of one's own models as the destination;
starting it opens the training's page, which ends with a link to the new version. A version
without train() has no Train action, and the server's refusals show beside the form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import PHONE, Pages, PierServer, playwright_api
from tests.browser.test_lineage import trainable
from tests.browser.test_new_model import ECHO, SHOTS, fits

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

# train() takes one lowercase word, checked with a pattern written for Python (\A, \Z) that the
# browser cannot read, so only the server can refuse it; and an optional text file.
WORD_TRAINER = """
import tempfile
from typing import Optional

from cog import BaseModel, BasePredictor, Input, Path


class TrainingOutput(BaseModel):
    weights: Path


class Predictor(BasePredictor):
    def setup(self, weights: Optional[Path] = None) -> None:
        self.word = weights.read_text() if weights is not None else "plain"

    def predict(self, text: str = Input(description="Anything")) -> str:
        return f"{self.word} {text}"


def train(
    word: str = Input(description="One lowercase word", regex=r"\\A[a-z]+\\Z"),
    notes: Optional[Path] = Input(description="A text file added after the word", default=None),
) -> TrainingOutput:
    extra = notes.read_text().strip() if notes is not None else ""
    out = Path(tempfile.mkdtemp()) / "word.txt"
    out.write_text(f"{word}{'+' + extra if extra else ''}")
    return TrainingOutput(weights=out)
"""


def shot(page: Page, name: str) -> None:
    """Save the whole page, the window grown to its height so sticky parts sit in place."""
    if not SHOTS:
        return
    size = page.viewport_size
    assert size
    page.evaluate("window.scrollTo(0, 0)")
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True, animations="disabled")
    page.set_viewport_size(size)


def add_model(server: PierServer, folder: Path, ref: str) -> str:
    added = server.cli("models", "add", str(folder), "--name", ref)
    return added.strip().split(":")[-1].split()[0]


def new_destination(server: PierServer, name: str) -> None:
    with server.api() as api:
        made = api.post("/v1/models", json={"owner": "admin", "name": name})
        assert made.status_code == 201, made.text


def test_train_a_version_from_its_page_and_open_the_new_version(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    base = add_model(pier_server, trainable(tmp_path), "admin/greeter")
    new_destination(pier_server, "greeter-ahoy")

    page = pages.open("/models/admin/greeter?tab=versions")
    row = page.locator(f'.version-item[data-version="{base}"]')
    expect(row.get_by_role("link", name=re.compile("^Run"))).to_be_visible()
    shot(page, "train-form-versions")
    row.get_by_role("link", name=re.compile("^Train")).click()
    expect(page).to_have_url(re.compile(f"version={base}&tab=train$"))
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true")
    form = page.get_by_role("form", name="Training input")
    expect(page.locator(".train-pane .noun-training")).to_contain_text(
        "A training teaches a version"
    )
    # The fields are train()'s, not predict()'s.
    expect(form.get_by_role("textbox", name=re.compile("^Prefix"))).to_be_visible()
    expect(form.get_by_text("Kill the training process half-way")).to_be_visible()
    expect(form.get_by_role("textbox", name=re.compile("^Text"))).to_have_count(0)
    destination = form.get_by_role("combobox", name=re.compile("^Destination"))
    expect(destination.locator("option", has_text="admin/greeter-ahoy")).to_have_count(1)
    expect(destination.locator("option", has_text="admin/greeter (this model)")).to_have_count(1)
    expect(destination.locator("option", has_text="pier/echo")).to_have_count(0)  # not one's own
    expect(form.get_by_role("link", name="New model")).to_have_attribute("href", "/models/new")

    form.get_by_role("textbox", name=re.compile("^Prefix")).fill("Ahoy, ")
    form.get_by_role("button", name="Start training").click()
    expect(form.get_by_text("Choose the model the new version goes into.")).to_be_visible()
    expect(page).to_have_url(re.compile("tab=train$"))  # nothing was sent
    destination.select_option("admin/greeter-ahoy")
    expect(form.get_by_text("Choose the model the new version goes into.")).to_be_hidden()
    shot(page, "train-form-desktop")

    form.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(r"/trainings/\w+$"))
    expect(page.get_by_role("heading", name=re.compile("^Training"))).to_be_visible()
    expect(page.locator(".status-pill")).to_have_text("Succeeded", timeout=120_000)
    expect(page.locator(".subtitle")).to_contain_text("into admin/greeter-ahoy")
    page.get_by_role("link", name="Run the new version").click()
    expect(page).to_have_url(re.compile(r"/models/admin/greeter-ahoy\?version=\w+$"))
    page.get_by_role("textbox", name=re.compile("^Text")).fill("sailor")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".run-view .text-output")).to_have_text("Ahoy, sailor", timeout=120_000)


def test_a_version_without_train_has_no_train_action(pages: Pages) -> None:
    page = pages.open("/models/pier/echo?tab=train")
    expect(page.get_by_role("tab", name="Playground")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Train")).to_have_count(0)
    page.get_by_role("tab", name=re.compile("^Versions")).click()
    expect(page.locator(".version-item").first).to_be_visible()
    expect(page.locator(".train-version")).to_have_count(0)


def test_the_servers_refusals_show_by_the_field(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    folder = tmp_path / "word"
    folder.mkdir()
    (folder / "predict.py").write_text(WORD_TRAINER)
    (folder / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
        'train: "predict.py:train"\n'
    )
    add_model(pier_server, folder, "admin/worder")
    new_destination(pier_server, "worder-gone")
    new_destination(pier_server, "worder-kept")
    notes = tmp_path / "notes.txt"
    notes.write_text("noted\n")

    page = pages.open("/models/admin/worder?tab=train", viewport=PHONE)
    form = page.get_by_role("form", name="Training input")
    word = form.get_by_role("textbox", name=re.compile("^Word"))
    word.fill("Ahoy")
    form.locator('input[type="file"]').set_input_files(str(notes))
    expect(form.get_by_text("Uploaded")).to_be_visible()
    destination = form.get_by_role("combobox", name=re.compile("^Destination"))
    destination.select_option("admin/worder-gone")
    fits(page)
    shot(page, "train-form-phone")

    # The destination went away after the page listed it: the server's 404, by the picker.
    with pier_server.api() as api:
        assert api.delete("/v1/models/admin/worder-gone").status_code in (200, 204)
    form.get_by_role("button", name="Start training").click()
    field = form.locator(".destination-field")
    expect(field.locator(".field-error")).to_have_text(
        "The specified training destination does not exist"
    )
    expect(destination).to_be_focused()

    # A word the pattern refuses: the server's words, by the field and in the summary.
    destination.select_option("admin/worder-kept")
    form.get_by_role("button", name="Start training").click()
    word_field = form.locator('.field[data-field="word"]')
    expect(word_field.locator(".field-error")).to_contain_text("Does not match pattern")
    expect(form.locator(".form-summary")).to_contain_text("Word")
    expect(word).to_be_focused()
    fits(page)
    shot(page, "train-form-errors-phone")

    word.fill("ahoy")
    # More than the account's credit: the server's words above the form, and where to go.
    with pier_server.api() as api:
        priced = api.put("/v1/admin/prices", json={"model": "admin/worder", "per_run_usd": "1000"})
        assert priced.status_code == 200, priced.text
        try:
            form.get_by_role("button", name="Start training").click()
            refusal = form.locator(".form-summary")
            expect(refusal).to_contain_text("Not started: This needs 1000.00 USD")
            expect(refusal.get_by_role("link", name="See your billing page.")).to_be_visible()
            expect(page).to_have_url(re.compile("tab=train$"))
        finally:
            api.request("DELETE", "/v1/admin/prices", json={"model": "admin/worder"})
    form.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(r"/trainings/\w+$"))
    expect(page.locator(".status-pill")).to_have_text("Succeeded", timeout=120_000)
    expect(page.locator(".json-details pre")).to_contain_text('"notes": "http')
    page.get_by_role("link", name="Run the new version").click()
    page.get_by_role("textbox", name=re.compile("^Text")).fill("there")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".run-view .text-output")).to_have_text("ahoy+noted there", timeout=120_000)


def test_the_train_tab_follows_the_chosen_version(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    plain = add_model(pier_server, ECHO, "admin/mixed")
    trained = add_model(pier_server, trainable(tmp_path), "admin/mixed")
    assert plain != trained

    page = pages.open("/models/admin/mixed?tab=train")
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true")
    picker = page.get_by_role("combobox", name="Version")
    picker.select_option(plain)  # echo has no train(): the tab goes, the playground shows
    expect(page.get_by_role("tab", name="Train")).to_have_count(0)
    expect(page.get_by_role("tab", name="Playground")).to_have_attribute("aria-selected", "true")
    expect(page).not_to_have_url(re.compile("tab=train"))
    picker.select_option(trained)
    page.get_by_role("tab", name="Train").click()
    expect(page.locator(".train-base")).to_contain_text(trained[:12])
