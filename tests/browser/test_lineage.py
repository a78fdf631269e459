"""A trained version tells its story on its model's Versions tab: the training that made it, the
base version it came from (linked to the base model), and the training's input."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Pages, PierServer, playwright_api
from tests.browser.test_new_model import shot
from tests.conftest import PREDICTORS

pytestmark = pytest.mark.e2e
expect = playwright_api().expect


def trainable(tmp: Path) -> Path:
    folder = tmp / "trainable"
    folder.mkdir()
    shutil.copy(PREDICTORS / "train_prefix.py", folder / "predict.py")
    (folder / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
        'train: "predict.py:train"\n'
    )
    return folder


def finished_training(server: PierServer, training_id: str) -> Any:
    deadline = time.monotonic() + 120
    with server.api() as api:
        while (body := api.get(f"/v1/trainings/{training_id}").json())["status"] not in (
            "succeeded",
            "failed",
            "canceled",
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
    return body


def test_a_trained_version_links_its_training_and_base(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    added = pier_server.cli("models", "add", str(trainable(tmp_path)), "--name", "admin/base")
    base = added.strip().split(":")[-1].split()[0]
    with pier_server.api() as api:
        made = api.post(
            "/v1/models", json={"owner": "admin", "name": "tuned", "visibility": "private"}
        )
        assert made.status_code == 201, made.text
        started = api.post(
            f"/v1/models/admin/base/versions/{base}/trainings",
            json={"destination": "admin/tuned", "input": {"prefix": "Ahoy, "}},
        )
        assert started.status_code == 201, started.text
    training = finished_training(pier_server, started.json()["id"])
    assert training["status"] == "succeeded", training
    trained = training["output"]["version"].split(":")[1]

    page = pages.open("/models/admin/tuned?tab=versions")
    item = page.locator(f'.version-item[data-version="{trained}"]')
    expect(item.locator(".version-kind")).to_have_text("Trained")
    expect(item.locator(".latest-badge")).to_have_text("Latest")
    source = item.locator(".version-source")
    expect(source).to_contain_text(f"Trained by training {training['id'][:10]}")
    expect(source.get_by_role("link", name=re.compile("^training "))).to_have_attribute(
        "href", f"/trainings/{training['id']}"
    )
    base_link = source.locator("a.base-link")
    expect(base_link).to_have_attribute("href", f"/models/admin/base?version={base}")
    expect(base_link).to_contain_text(f"admin/base:{base[:12]}")
    expect(page.get_by_text("Push a new version")).to_be_visible()  # the owner may push
    item.get_by_text("Training input").click()
    expect(item.locator(".training-input pre")).to_contain_text('"prefix": "Ahoy, "')
    shot(page, "desktop-29-lineage")

    base_link.click()
    expect(page).to_have_url(re.compile(f"/models/admin/base\\?version={base}$"))
    expect(page.get_by_role("combobox", name="Version")).to_have_value(base)

    page.go_back()
    item.get_by_role("link", name=re.compile("^training ")).click()
    expect(page.get_by_role("heading", name=re.compile("^Training"))).to_be_visible()
    expect(page.locator(".status-pill")).to_have_text("Succeeded")
    expect(page.locator(".noun-training")).to_contain_text("A training teaches a version")
    expect(page.locator(".training-outcome")).to_contain_text(f"admin/tuned:{trained[:12]}")
    shot(page, "desktop-30-training")
    page.get_by_role("link", name="Run the new version").click()
    expect(page).to_have_url(re.compile(f"/models/admin/tuned\\?version={trained}$"))
    page.get_by_role("textbox", name=re.compile("^Text")).fill("sailor")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".run-view .text-output")).to_have_text("Ahoy, sailor", timeout=120_000)


def test_a_running_training_shows_its_logs_and_cancels(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    added = pier_server.cli("models", "add", str(trainable(tmp_path)), "--name", "admin/slow-base")
    base = added.strip().split(":")[-1].split()[0]
    with pier_server.api() as api:
        made = api.post("/v1/models", json={"owner": "admin", "name": "never-made"})
        assert made.status_code == 201, made.text
        started = api.post(
            f"/v1/models/admin/slow-base/versions/{base}/trainings",
            json={
                "destination": "admin/never-made",
                "input": {"prefix": "x", "steps": 600, "delay": 0.1},
            },
        )
        assert started.status_code == 201, started.text
    page = pages.open(f"/trainings/{started.json()['id']}")
    expect(page.get_by_label("Training logs")).to_contain_text("step 2 of 600", timeout=120_000)
    expect(page.locator(".status-pill")).to_have_text("Running")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".status-pill")).to_have_text("Canceled")
    expect(page.get_by_text("Canceled: no version was made.")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
