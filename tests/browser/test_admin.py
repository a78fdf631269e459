"""The operator page: the admin finds it in the account menu and sees processes change as their
heartbeats do; any other account sees neither the menu entry nor the page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Pages, PierServer, playwright_api
from tests.heartbeats import worker_row, write_heartbeat

pytestmark = pytest.mark.e2e
expect = playwright_api().expect


def heartbeat(server: PierServer, process_id: str, age: float) -> None:
    """A worker's heartbeat row in the server's store, `age` seconds old."""
    row = worker_row(process_id, age, host="browser-test-host", slots=3, models=["pier/echo"])
    write_heartbeat(f"sqlite:///{server.data_dir / 'pier.db'}", row)


def test_the_admin_watches_the_cluster(pages: Pages, pier_server: PierServer) -> None:
    heartbeat(pier_server, "browser-test-worker", age=0.5)
    page = pages.open("/")
    page.get_by_role("button", name="admin").click()
    page.get_by_role("link", name="Cluster").click()
    expect(page.get_by_role("heading", name="Cluster", level=1)).to_be_visible()
    assert page.url.endswith("/admin")

    processes = page.get_by_role("table", name="API processes and workers")
    worker = processes.get_by_role("row").filter(has_text="browser-test-host")
    expect(worker).to_contain_text("3 slots")
    expect(worker).to_contain_text("pier/echo")
    expect(worker.locator(".state-badge")).to_have_text("Alive")

    # The page reads the cluster again every few seconds: a worker that stops beating shows.
    heartbeat(pier_server, "browser-test-worker", age=120)
    expect(worker.locator(".state-badge")).to_have_text("Not answering", timeout=15_000)


def test_other_accounts_see_no_operator_page(pages: Pages, pier_server: PierServer) -> None:
    token = pier_server.cli("token", "create", "--username", "bob").strip()
    page = pages.open(None, signed_in=False)
    page.context.add_init_script(f"localStorage.setItem('pier.token', {token!r})")
    page.goto(pier_server.url + "/")
    page.get_by_role("button", name="bob").click()
    menu = page.get_by_role("group", name="Account")
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    expect(menu.get_by_role("link", name="Cluster")).to_have_count(0)

    page.goto(pier_server.url + "/admin")
    expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()


def test_the_cluster_page_shows_gpu_memory_per_process(
    pages: Pages, pier_server: PierServer
) -> None:
    loaded = [
        {
            "model": "acme/painter",
            "version": "a" * 64,
            "processes": 2,
            "gpu_processes": [
                {"pid": 11, "gpus": ["0"], "memory_mib": 812},
                {"pid": 12, "gpus": ["1", "2"], "memory_mib": None},
            ],
        }
    ]
    row = worker_row("gpu-worker", 0.5, host="gpu-box", gpus=["0", "1", "2"], loaded=loaded)
    write_heartbeat(f"sqlite:///{pier_server.data_dir / 'pier.db'}", row)
    page = pages.open("/admin")
    processes = page.get_by_role("table", name="API processes and workers")
    worker = processes.get_by_role("row").filter(has_text="gpu-box")
    expect(worker).to_contain_text("GPU 0, 1, 2")
    expect(worker).to_contain_text("(GPU 0: 812 MiB; GPU 1,2)")
