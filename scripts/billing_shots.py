"""Screenshots of the money pages: the billing page at desktop width and on a 390 px phone, and
the prices and credit sections of the operator page. scripts/screenshots.py takes them with
every other page; on their own (a server with two small models, quicker):

    python scripts/billing_shots.py [out_dir]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, PierServer  # noqa: E402

if TYPE_CHECKING:
    from scripts.screenshots import Shooter


def seed_money(s: Shooter) -> None:
    """Prices, a top-up, a monthly limit and a few paid runs, all through the API."""
    s.api("PUT", "/v1/admin/prices", {"hardware": "cpu", "per_second_usd": "0.0002"})
    s.api("PUT", "/v1/admin/prices", {"model": "pier/echo", "per_run_usd": "0.25"})
    s.api(
        "POST", "/v1/admin/accounts/admin/credit", {"amount_usd": "25", "memo": "Starting credit"}
    )
    s.api("PATCH", "/v1/billing", {"monthly_limit_usd": "10", "low_balance_alert_usd": "5"})
    runs = [
        s.api("POST", "/v1/models/pier/echo/predictions", {"input": {"text": f"run {n}"}})["id"]
        for n in range(3)
    ]
    runs.append(
        s.api("POST", "/v1/models/pier/slow/predictions", {"input": {"steps": 20, "delay": 0.1}})[
            "id"
        ]
    )
    for run in runs:
        s.server.wait_for(run, ("succeeded", "failed", "canceled"), timeout=120)


def billing_pages(s: Shooter) -> None:
    """billing-desktop, billing-phone and billing-admin-prices."""
    seed_money(s)
    for size in ("desktop", "phone"):
        page = s.page(size)
        s.go(page, "/billing")
        expect(page.locator(".day-bar").first).to_be_visible()
        s.shot(page, f"billing-{size}")
        page.context.close()
    page = s.page("desktop")
    s.go(page, "/admin")
    section = page.locator(".admin-billing")
    expect(section.locator(".price-table")).to_be_visible()
    expect(section.locator(".credit-table")).to_be_visible()
    path = s.out / "billing-admin-prices.png"
    box = section.bounding_box()
    assert box is not None
    margin = 16
    clip = {
        "x": box["x"] - margin,
        "y": box["y"] - margin,
        "width": box["width"] + 2 * margin,
        "height": box["height"] + 2 * margin,
    }
    page.screenshot(path=str(path), clip=clip, full_page=True, animations="disabled")
    print("wrote", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    page.context.close()


def main(argv: list[str]) -> int:
    from scripts.screenshots import Shooter, sample_picture

    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = PierServer(Path(tmp) / "data").start(("echo", "slow"))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                picture = sample_picture(Path(tmp) / "shapes.png")
                billing_pages(Shooter(browser, server, out, picture))
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
