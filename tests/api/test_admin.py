"""The admin's view of the cluster: `GET /v1/admin/cluster`, `/metrics` and `pier status`'s
tables, from processes' heartbeat rows and the predictions waiting in the store."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from pier.cli.status import print_cluster
from pier.dispatch.rows import new_prediction
from pier.store import Row, Store
from pier.util import utcnow
from tests.conftest import Pier, running_pier
from tests.heartbeats import worker_row, write_heartbeat

MODEL_A = {"id": "model-a", "owner": "acme", "name": "painter"}
MODEL_B = {"id": "model-b", "owner": "acme", "name": "writer"}
VERSION_A = {"id": "a" * 64, "openapi_schema": {}}
VERSION_B = {"id": "b" * 64, "openapi_schema": {}}


def process(process_id: str, age: float, **fields: Any) -> Row:
    """A worker on two GPUs serving acme/painter, running one prediction."""
    since = (utcnow() - timedelta(seconds=age + 5)).isoformat()
    running = [
        {"id": "p-running", "version": VERSION_A["id"], "model": "acme/painter", "since": since}
    ]
    loaded = [{"model": "acme/painter", "version": VERSION_A["id"], "processes": 2}]
    defaults = {
        "gpus": ["0", "1"],
        "models": ["acme/painter"],
        "loaded": loaded,
        "running": running,
    }
    return worker_row(process_id, age, **{**defaults, **fields})


async def waiting(store: Store, account: Row, model: Row, version: Row, age: float) -> Row:
    """A prediction that has waited `age` seconds to start (written to the store only)."""
    row = new_prediction(account["id"], model, version, {"n": 1})
    row["created_at"] = utcnow() - timedelta(seconds=age)
    await store.insert_prediction(row)
    return row


async def ended(store: Store, account: Row, status: str) -> None:
    row = new_prediction(account["id"], MODEL_A, VERSION_A, {"n": 1})
    row.update(status=status, started_at=utcnow(), completed_at=utcnow())
    await store.insert_prediction(row)


async def fill(pier: Pier) -> None:
    """Two workers (one alive, one silent for a minute), three predictions waiting on two
    versions, and some that ended."""
    store, admin = pier.services.store, pier.info.account
    database = pier.services.settings.database_url
    write_heartbeat(database, process("worker-alive", age=1.0))
    write_heartbeat(database, process("worker-gone", age=60.0, host="gpu-2", running=[]))
    await waiting(store, admin, MODEL_A, VERSION_A, age=30)
    await waiting(store, admin, MODEL_A, VERSION_A, age=5)
    await waiting(store, admin, MODEL_B, VERSION_B, age=2)
    for status in ("succeeded", "succeeded", "failed", "canceled"):
        await ended(store, admin, status)


async def user_token(pier: Pier, username: str = "alice") -> str:
    account = await pier.services.store.create_account(username)
    return await pier.services.store.create_token(account["id"], "test")


async def test_the_admin_sees_processes_alive_or_gone_and_waiting_predictions(pier: Pier) -> None:
    await fill(pier)
    response = await pier.client.get("/v1/admin/cluster")
    assert response.status_code == 200, response.text
    cluster = response.json()
    processes = {p["id"]: p for p in cluster["processes"]}
    alive, gone = processes["worker-alive"], processes["worker-gone"]
    assert alive["alive"] is True and 1.0 <= alive["heartbeat_age"] < 10
    assert gone["alive"] is False and 60.0 <= gone["heartbeat_age"] < 70
    assert alive["gpus"] == ["0", "1"] and alive["slots"] == 2
    assert alive["models"] == ["acme/painter"]
    assert alive["loaded"][0]["version"] == VERSION_A["id"]
    assert alive["running"][0]["id"] == "p-running"
    assert {"host", "pid", "kind", "started_at", "heartbeat_at"} <= set(alive)

    queues = {q["version"]: q for q in cluster["queues"]}
    assert set(queues) == {VERSION_A["id"], VERSION_B["id"]}
    a, b = queues[VERSION_A["id"]], queues[VERSION_B["id"]]
    assert (a["model"], a["depth"]) == ("acme/painter", 2)
    assert (b["model"], b["depth"]) == ("acme/writer", 1)
    assert 30 <= a["oldest_wait_seconds"] < 40
    assert 2 <= b["oldest_wait_seconds"] < 12
    # written to the store behind the queue's back: none of them is in the job queue's line
    assert a["queued"] == 0 and b["queued"] == 0


async def test_a_queued_prediction_counts_in_the_store_and_in_the_job_queue(pier: Pier) -> None:
    """Real predictions behind a busy model wait in the job queue as well as in the store."""
    version = await pier.add_fixture("me/sleep", "sleep.py")
    first = (await pier.create("me/sleep", {"sleep": 30})).json()
    deadline = time.monotonic() + 60
    while (await pier.client.get(f"/v1/predictions/{first['id']}")).json()["status"] != (
        "processing"
    ):
        assert time.monotonic() < deadline, "the first prediction never started"
        await asyncio.sleep(0.02)
    behind = [(await pier.create("me/sleep", {"sleep": 1})).json() for _ in range(2)]
    try:
        cluster = (await pier.client.get("/v1/admin/cluster")).json()
        (queue,) = [q for q in cluster["queues"] if q["version"] == version["id"]]
        assert queue["depth"] == 2 and queue["queued"] == 2
    finally:
        for prediction in (first, *behind):
            await pier.client.post(f"/v1/predictions/{prediction['id']}/cancel")


async def test_other_accounts_do_not_see_the_admin_pages(pier: Pier) -> None:
    token = await user_token(pier)
    as_user = {"Authorization": f"Bearer {token}"}
    for path in ("/v1/admin/cluster", "/metrics"):
        hidden = await pier.client.get(path, headers=as_user)
        unknown = await pier.client.get("/v1/no-such-page", headers=as_user)
        assert hidden.status_code == 404, path
        assert hidden.headers["content-type"] == "application/problem+json"
        assert hidden.json() == unknown.json()
        for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong-token"}):
            refused = await pier.client.get(path, headers=headers)
            assert refused.status_code == 401, (path, headers)
            assert refused.headers["content-type"] == "application/problem+json"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a scrape, read with Prometheus' own parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_hold_the_same_figures(pier: Pier) -> None:
    await fill(pier)
    response = await pier.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)

    alive = (("process", "worker-alive"), ("kind", "worker"), ("host", "gpu-1"))
    alive = tuple(sorted(alive))
    assert found[("pier_processes", (("host", "gpu-1"), ("kind", "worker")))] == 1
    assert ("pier_processes", (("host", "gpu-2"), ("kind", "worker"))) not in found
    assert found[("pier_process_slots", alive)] == 2
    assert found[("pier_process_running", alive)] == 1
    gone = tuple(sorted((("process", "worker-gone"), ("kind", "worker"), ("host", "gpu-2"))))
    assert found[("pier_process_heartbeat_age_seconds", gone)] >= 60
    assert ("pier_process_slots", gone) not in found

    a = (("model", "acme/painter"), ("version", VERSION_A["id"]))
    b = (("model", "acme/writer"), ("version", VERSION_B["id"]))
    assert found[("pier_queue_depth", a)] == 2 and found[("pier_queue_depth", b)] == 1
    assert 30 <= found[("pier_queue_oldest_wait_seconds", a)] < 40
    assert found[("pier_queue_jobs", a)] == 0

    assert found[("pier_predictions_total", (("status", "succeeded"),))] == 2
    assert found[("pier_predictions_total", (("status", "failed"),))] == 1
    assert found[("pier_predictions_total", (("status", "canceled"),))] == 1
    assert found[("pier_predictions_open", (("status", "starting"),))] == 3
    assert found[("pier_predictions_open", (("status", "processing"),))] == 0

    openmetrics = await pier.client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")


async def test_a_scraper_token_reads_metrics_and_nothing_else(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, database=database, metrics_token="scrape-me") as pier:
        scraper = {"Authorization": "Bearer scrape-me"}
        response = await pier.client.get("/metrics", headers=scraper)
        assert response.status_code == 200
        assert "# HELP pier_queue_depth " in response.text
        assert (await pier.client.get("/v1/admin/cluster", headers=scraper)).status_code == 401
        assert (await pier.client.get("/v1/account", headers=scraper)).status_code == 401
        wrong = await pier.client.get("/metrics", headers={"Authorization": "Bearer scrape-you"})
        assert wrong.status_code == 401
        assert (await pier.client.get("/metrics")).status_code == 200  # the admin's token


async def test_gone_means_three_missed_heartbeats_at_the_lease_in_use(
    tmp_path: Path, database: str
) -> None:
    """Processes beat four times per lease: with a 100 s lease a minute of silence is normal."""
    async with running_pier(tmp_path, database=database, lease_seconds=100.0) as pier:
        database_url = pier.services.settings.database_url
        write_heartbeat(database_url, worker_row("slow-beater", age=60.0))
        write_heartbeat(database_url, worker_row("silent", age=80.0))
        cluster = (await pier.client.get("/v1/admin/cluster")).json()
        alive = {p["id"]: p["alive"] for p in cluster["processes"]}
        assert alive["slow-beater"] is True and alive["silent"] is False


@pytest.mark.parametrize("width", [160, 80])
async def test_pier_status_prints_both_tables(pier: Pier, width: int) -> None:
    await fill(pier)
    cluster = (await pier.client.get("/v1/admin/cluster")).json()
    console = Console(record=True, width=width, color_system=None)
    print_cluster(cluster, console)
    text = console.export_text()
    assert "1 not answering" in text
    for expected in ("gpu-1", "gpu-2", "GPU 0,1", "acme/painter", "gone", "Waiting predictions"):
        assert expected in text, (expected, text)
    assert VERSION_A["id"][:12] in text


async def test_pier_status_says_when_nothing_reports(tmp_path: Path) -> None:
    console = Console(record=True, width=100, color_system=None)
    print_cluster({"time": None, "processes": [], "queues": []}, console)
    text = console.export_text()
    assert "No process has reported a heartbeat yet." in text
    assert "No prediction is waiting." in text
