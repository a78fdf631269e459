"""Money in the playground: the admin sets prices and tops up an account on the operator page,
the form shows an estimate before Run and the cost after, and the billing page shows the
balance, the month's spend, spend charts, the ledger (with its CSV) and the limit settings,
on a desktop and on a 390 px phone.

These tests set prices, so they run against a server of their own: the other browser tests'
predictions stay free.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, Pages, PierServer, playwright_api
from tests.browser.test_layout_a11y import UNNAMED, overflow
from tests.browser.test_run import BOOT, run_view

pytestmark = pytest.mark.e2e
expect = playwright_api().expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

PER_RUN = "0.25"


@pytest.fixture(scope="module")
def money_server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[PierServer]:
    server = PierServer(tmp_path_factory.mktemp("pier-billing") / "data").start(("echo", "slow"))
    yield server
    server.stop()


@pytest.fixture
def money(browser: Any, money_server: PierServer) -> Iterator[Pages]:
    opened = Pages(browser, money_server)
    yield opened
    opened.close()
    assert not opened.errors, f"errors in the page: {opened.errors}"


def billing(server: PierServer) -> dict[str, Any]:
    with server.api() as client:
        response = client.get("/v1/billing")
    assert response.status_code == 200, response.text
    return dict(response.json())


def set_price(page: Page, scope: str, key: str, basis: str, amount: str) -> None:
    form = page.get_by_role("form", name="Set a price")
    form.get_by_label("Price for").select_option(scope)
    form.get_by_label("Model (owner/name)" if scope == "model" else "Hardware class").fill(key)
    form.get_by_label("Charged").select_option(basis)
    form.get_by_label("Amount (USD)").fill(amount)
    form.get_by_role("button", name="Set price").click()


def test_an_unpriced_model_says_free_before_run(money: Pages) -> None:
    page = money.open("/models/pier/slow")
    expect(page.locator(".form-actions .run-estimate")).to_have_text("Estimated cost: Free")


def test_the_admin_prices_a_model_and_tops_up_then_a_run_costs_what_it_said(
    money: Pages, money_server: PierServer
) -> None:
    page = money.open("/")
    page.get_by_role("button", name="admin").click()
    page.get_by_role("link", name="Cluster").click()
    prices = page.get_by_role("table", name="Prices")

    # A price per second for the CPU class, then removed again; a price per run for echo.
    set_price(page, "hardware", "cpu", "per_second", "0.0001")
    expect(prices.get_by_role("row").filter(has_text="cpu")).to_contain_text("$0.0001 per second")
    set_price(page, "model", "pier/echo", "per_run", PER_RUN)
    echo = prices.get_by_role("row").filter(has_text="pier/echo")
    expect(echo).to_contain_text("$0.25 per run")
    page.get_by_role("button", name="Remove the price of cpu").click()
    expect(prices.get_by_role("row").filter(has_text="cpu")).to_have_count(0)
    expect(echo).to_be_visible()

    # A bad amount gets the server's own words.
    set_price(page, "model", "pier/echo", "per_run", "-1")
    expect(page.locator(".price-form ~ .error-box")).to_be_visible()
    expect(echo).to_contain_text("$0.25 per run")

    before = billing(money_server)
    credit = page.get_by_role("form", name="Add credit")
    credit.get_by_label("Account").fill("admin")
    credit.get_by_label("Amount (USD)").fill("5")
    credit.get_by_label("Memo").fill("Welcome credit")
    credit.get_by_role("button", name="Add credit").click()
    expect(page.locator(".credit-done")).to_contain_text("Added $5.00 to admin")
    after = billing(money_server)
    assert float(after["balance_usd"]) == pytest.approx(float(before["balance_usd"]) + 5)
    accounts = page.get_by_role("table", name="Accounts' credit")
    expect(accounts.get_by_role("row").filter(has_text="admin")).to_contain_text(
        f"${float(after['balance_usd']):.2f}"
    )
    assert page.evaluate(UNNAMED) == []

    # The form says what a run will cost before Run, and the run view what it did cost.
    page.goto(money_server.url + "/models/pier/echo")
    estimate = page.locator(".form-actions .run-estimate")
    expect(estimate).to_have_text(f"Estimated cost: ${PER_RUN} per run")
    page.get_by_role("textbox", name="Text (required)").fill("what does it cost")
    page.get_by_role("button", name="Run").click()
    view = run_view(page)
    expect(view.locator(".status-pill")).to_have_text("Succeeded", timeout=BOOT)
    expect(view.locator(".metrics dd[data-cost]")).to_have_text(f"${PER_RUN}")
    pid = view.get_attribute("data-prediction-id")
    with money_server.api() as client:
        ended = client.get(f"/v1/predictions/{pid}").json()
    assert float(ended["metrics"]["cost_usd"]) == float(PER_RUN)

    # The prediction's page puts the cost beside its timing figures.
    page.goto(f"{money_server.url}/predictions/{pid}")
    timing = page.locator(".timing-table")
    expect(timing.locator("dd[data-timing='total']")).not_to_have_text("—")
    expect(timing.locator("dd[data-cost]")).to_have_text(f"${PER_RUN}")

    # The billing page, from the account menu.
    page.get_by_role("button", name="admin").click()
    page.get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    now = billing(money_server)
    figure = page.locator(".billing-summary")
    expect(figure.locator("[data-figure='balance'] .tile-value")).to_have_text(
        f"${float(now['balance_usd']):,.2f}"
    )
    expect(figure.locator("[data-figure='month'] .tile-value")).to_have_text(
        f"${float(now['spent_this_month_usd']):,.2f}"
    )
    assert float(now["spent_this_month_usd"]) >= float(PER_RUN)

    ledger = page.get_by_role("table", name="Ledger")
    expect(ledger.locator("tr[data-kind='topup']").first).to_contain_text("Welcome credit")
    expect(ledger.locator("tr[data-kind='topup']").first).to_contain_text("+$5.00")
    charge = ledger.locator("tr[data-kind='charge']").filter(has_text=str(pid)[:10])
    expect(charge).to_contain_text(f"−${PER_RUN}")
    expect(charge).to_contain_text("pier/echo")

    # Today's bar and echo's bar are drawn, with a height and a width.
    today = page.locator(".day-bar").last
    assert int(today.get_attribute("data-micros") or 0) >= 250_000
    assert today.locator(".day-fill").evaluate("el => el.getBoundingClientRect().height") > 10
    assert page.locator(".day-bar").count() == 30
    echo_bar = page.locator(".model-bar[data-model='pier/echo']")
    expect(echo_bar).to_contain_text(f"${PER_RUN}")
    assert echo_bar.locator(".model-fill").evaluate("el => el.getBoundingClientRect().width") > 10

    # The CSV is fetched with the token and saved as a file with the same rows.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    kinds = {row.get("kind") for row in rows}
    assert {"topup", "charge"} <= kinds, text
    assert any(row.get("memo") == "Welcome credit" for row in rows), text
    assert any(row.get("prediction_id") == pid for row in rows), text
    assert page.evaluate(UNNAMED) == []


def test_the_limit_form_saves_and_shows_the_servers_message(
    money: Pages, money_server: PierServer
) -> None:
    page = money.open("/billing")
    form = page.get_by_role("form", name="Limit and alerts")
    limit = form.get_by_label("Monthly spend limit")
    limit.fill("12.5")
    form.get_by_label("Low-balance alert").fill("1")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved")
    expect(page.locator(".limit-text")).to_contain_text("of $12.50 this month")
    saved = billing(money_server)
    assert float(saved["monthly_limit_usd"]) == 12.5
    assert float(saved["low_balance_alert_usd"]) == 1

    # What the server says about a bad value shows under that field, and nothing is saved.
    with money_server.api() as client:
        refused = client.patch("/v1/billing", json={"monthly_limit_usd": "-3"})
    assert refused.status_code in (400, 422), refused.text
    limit.fill("-3")
    form.get_by_role("button", name="Save").click()
    error = page.locator("[data-field='monthly_limit_usd'] .field-error")
    problem = refused.json()
    said = (
        problem["invalid_fields"][0]["description"]
        if "invalid_fields" in problem
        else problem["detail"]
    )
    expect(error).to_have_text(said.strip())
    expect(limit).to_have_attribute("aria-invalid", "true")
    assert float(billing(money_server)["monthly_limit_usd"]) == 12.5

    webhook = form.get_by_label("Alert webhook")
    limit.fill("12.5")
    webhook.fill("not a url")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("[data-field='alert_webhook'] .field-error")).to_be_visible()
    expect(error).to_be_hidden()

    # Emptied boxes mean no limit and no alert.
    limit.fill("")
    webhook.fill("")
    form.get_by_label("Low-balance alert").fill("")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved")
    expect(page.locator(".limit-none")).to_contain_text("no monthly limit")
    assert billing(money_server)["monthly_limit_usd"] is None


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_billing_page_fits_the_screen(money: Pages, viewport: dict[str, int]) -> None:
    page = money.open("/admin", viewport=viewport)
    expect(page.get_by_role("form", name="Add credit")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert overflow(page) == 0
    page.goto(money.server.url + "/billing")
    expect(page.get_by_role("heading", name="Ledger")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert overflow(page) == 0
    # Every figure, the ledger and the settings stay inside the screen.
    for selector in (".billing-summary", ".limit-pane", ".ledger-table", ".settings-form"):
        found = page.locator(selector)
        box = found.first.bounding_box() if found.count() else None
        if box is not None:
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], selector
    assert re.search(r"\$", page.locator(".billing-summary").inner_text())


def test_a_run_the_account_cannot_pay_for_says_why(money: Pages, money_server: PierServer) -> None:
    with money_server.api() as client:
        priced = client.put("/v1/admin/prices", json={"model": "pier/slow", "per_run_usd": "1000"})
        assert priced.status_code == 200, priced.text
        try:
            page = money.open("/models/pier/slow")
            expect(page.locator(".form-actions .run-estimate")).to_contain_text("$1,000.00 per run")
            page.get_by_role("button", name="Run").click()
            refusal = page.locator(".form-summary")
            expect(refusal).to_contain_text("Not started: This needs 1000.00 USD")
            expect(page.locator(".run-view")).to_have_count(0)
            refusal.get_by_role("link", name="See your billing page.").click()
            expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
        finally:
            client.request("DELETE", "/v1/admin/prices", json={"model": "pier/slow"})


def test_the_ledger_pages_with_load_more(money: Pages, money_server: PierServer) -> None:
    with money_server.api() as client:
        for n in range(101):
            done = client.post(
                "/v1/admin/accounts/admin/credit", json={"amount_usd": "0.01", "memo": f"cent {n}"}
            )
            assert done.status_code == 200, done.text
    page = money.open("/billing")
    rows = page.get_by_role("table", name="Ledger").locator("tbody tr")
    expect(rows).to_have_count(100)  # one page
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(rows.filter(has_text="cent 0")).to_have_count(1)
    assert rows.count() > 100
    expect(more).to_be_hidden()  # fewer than two hundred entries: that was the last page
    entries = page.locator(".ledger-table tbody tr").evaluate_all(
        "rows => rows.map((r) => r.dataset.entry)"
    )
    assert len(entries) == len(set(entries))  # no entry twice across the pages


def test_a_tokens_own_limit_is_set_on_the_billing_page_and_holds(
    money: Pages, money_server: PierServer
) -> None:
    with money_server.api() as client:
        client.put("/v1/admin/prices", json={"model": "pier/echo", "per_run_usd": PER_RUN})
        client.post("/v1/admin/accounts/admin/credit", json={"amount_usd": "1"})
        current = next(
            t for t in client.get("/v1/account/tokens").json()["results"] if t["current"]
        )
    page = money.open("/billing")
    row = page.locator(f".token-limit[data-token='{current['id']}']")
    form = row.get_by_role("form", name=f"Monthly limit of {current['name']}")
    limit = form.get_by_label("Monthly limit (USD)")
    try:
        limit.fill("-2")
        form.get_by_role("button", name="Save").click()
        expect(form.locator(".field-error")).to_be_visible()
        expect(limit).to_have_attribute("aria-invalid", "true")

        limit.fill("0.10")
        form.get_by_role("button", name="Save").click()
        expect(form.get_by_role("status")).to_have_text("Saved")
        expect(limit).to_have_value("0.10")
        with money_server.api() as client:
            spend = client.get(f"/v1/billing/tokens/{current['id']}").json()
        assert float(spend["monthly_limit_usd"]) == 0.1

        # The token (the one this browser signs in with) may not pay for a $0.25 run now.
        page.goto(money_server.url + "/models/pier/echo")
        page.get_by_role("textbox", name="Text (required)").fill("over the token's limit")
        page.get_by_role("button", name="Run").click()
        expect(page.locator(".form-summary")).to_contain_text("API token's monthly spend limit")
    finally:
        with money_server.api() as client:
            client.patch(f"/v1/billing/tokens/{current['id']}", json={"monthly_limit_usd": None})
