"""The playground under its Content-Security-Policy: sign-in never leaves the site, whatever
`next` says, and the pages render and run a model without a single policy violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import Pages, PierServer, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
BOOT = 60_000  # the first prediction of a version starts its model process

# Records every violation the page's policy reports, from the first script on.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`);
});
"""


def watched(pages: Pages, path: str, *, signed_in: bool = True) -> Any:
    page = pages.open(None, signed_in=signed_in)
    page.add_init_script(WATCH_POLICY)
    page.goto(pages.server.url + path)
    return page


def violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__violations"))


@pytest.mark.parametrize(
    "next_value",
    ["/%5Cevil.example/", "/%09/evil.example/", "/%5C%5Cevil.example", "//evil.example/"],
)
def test_sign_in_never_leaves_the_site(
    pages: Pages, pier_server: PierServer, next_value: str
) -> None:
    page = watched(pages, f"/login?next={next_value}", signed_in=False)
    page.get_by_label("API token").fill(pier_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    assert page.url == pier_server.url + "/"

    # Signed in already, the page offers a link onwards: it stays on the site too.
    again = watched(pages, f"/login?next={next_value}")
    continue_link = again.get_by_role("link", name="Continue")
    assert continue_link.get_attribute("href") == "/"
    assert violations(page) == [] and violations(again) == []


def test_a_next_path_on_the_site_is_kept(pages: Pages, pier_server: PierServer) -> None:
    page = watched(pages, "/login?next=%2Fpredictions%3Fstatus%3Dsucceeded", signed_in=False)
    page.get_by_label("API token").fill(pier_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Predictions", level=1)).to_be_visible()
    assert page.url == pier_server.url + "/predictions?status=succeeded"


def test_playground_runs_a_model_without_policy_violations(
    pages: Pages, pier_server: PierServer, tmp_path: Path
) -> None:
    # The gallery with its cover images.
    gallery = watched(pages, "/")
    grid = gallery.get_by_role("list", name="Models")
    cover = grid.get_by_role("listitem").filter(has_text="image-filter").locator("img")
    gallery.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=cover.element_handle()
    )
    assert violations(gallery) == []

    # A model page: upload a picture (previewed from a blob: URL), run, see the output image.
    picture = tmp_path / "green.png"
    Image.new("RGB", (32, 24), (0, 200, 0)).save(picture)
    page = watched(pages, "/models/pier/image-filter")
    page.get_by_label("Image (required)").set_input_files(picture)
    expect(page.locator(".file-item")).to_contain_text("Uploaded")
    page.get_by_role("button", name="Run").click()
    view = page.locator(".run-view")
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    image = view.locator("img.output-image")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    for tab in ("API", "Model card"):
        page.get_by_role("tab", name=tab).click()
    assert violations(page) == []

    # The prediction's own page, then the history, as a fresh load of each.
    prediction = view.get_attribute("data-prediction-id")
    detail = watched(pages, f"/predictions/{prediction}")
    expect(detail.locator(".status-pill")).to_have_text("Succeeded")
    history = watched(pages, "/predictions")
    expect(history.get_by_role("heading", name="Predictions", level=1)).to_be_visible()
    assert violations(detail) == [] and violations(history) == []

    # Other sites may not frame the playground.
    response = detail.request.get(pier_server.url + "/")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
