"""A PostgreSQL that goes away: requests that need it answer 503 problem+json and nothing is
accepted half-way; when it comes back, the same server carries on without a restart.

The outage is real: the test's own database stops accepting connections and the open ones are
cut, as when a database server restarts or a network drops.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pier.store import postgresql
from tests.conftest import running_pier
from tests.postgres import ThrowAwayDatabase, postgres_or_skip

UNREACHABLE = "The database is unreachable; try again shortly."


@pytest.fixture
def own_database() -> Iterator[ThrowAwayDatabase]:
    postgres_or_skip()
    database = ThrowAwayDatabase("pier_outage")
    yield database
    database.drop()


async def test_requests_answer_503_while_postgresql_is_gone_and_work_again_after(
    tmp_path: Path, own_database: ThrowAwayDatabase
) -> None:
    async with running_pier(tmp_path, database=str(own_database)) as pier:
        await pier.add_fixture("t/hello", "hello_world.py")
        before = await pier.create("t/hello", {"text": "before"}, wait=30)
        assert before.json()["status"] == "succeeded", before.text

        own_database.refuse_connections()
        for attempt in (
            pier.create("t/hello", {"text": "during"}),
            pier.client.get(f"/v1/predictions/{before.json()['id']}"),
            pier.client.get("/v1/predictions"),
            pier.client.post("/v1/files", files={"content": ("a.txt", b"hello")}),
        ):
            refused = await attempt
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json() == {
                "title": "Service unavailable",
                "detail": UNREACHABLE,
                "status": 503,
            }

        own_database.allow_connections()
        after = await pier.create("t/hello", {"text": "after"}, wait=30)
        assert after.status_code == 201 and after.json()["output"] == "hello after", after.text
        listed = (await pier.client.get("/v1/predictions")).json()["results"]
        assert [p["input"]["text"] for p in listed] == ["after", "before"]  # nothing half-done
        files = (await pier.client.get("/v1/files")).json()["results"]
        assert files == []


async def test_connections_cut_while_idle_are_replaced_before_they_are_used(
    tmp_path: Path, own_database: ThrowAwayDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every connection counts as idle long enough to be checked (by default: after a second).
    monkeypatch.setattr(postgresql, "TRUSTED_IDLE_SECONDS", 0.0)
    async with running_pier(tmp_path, database=str(own_database)) as pier:
        await pier.add_fixture("t/hello", "hello_world.py")
        first = await pier.create("t/hello", {"text": "one"}, wait=30)
        assert first.json()["status"] == "succeeded", first.text
        assert own_database.cut_connections() > 0  # the pool held some open
        second = await pier.create("t/hello", {"text": "two"}, wait=30)
        assert second.status_code == 201 and second.json()["status"] == "succeeded", second.text
        assert (await pier.client.get(f"/v1/predictions/{first.json()['id']}")).status_code == 200


RECORDING = """
import time
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "x", sleep: float = 0.0) -> str:
        time.sleep(sleep)
        with open({runs!r}, "a") as out:
            out.write(text + "\\n")
        return "ran " + text
"""


async def test_a_refused_create_runs_nothing_and_a_run_that_ends_in_an_outage_is_kept(
    tmp_path: Path, own_database: ThrowAwayDatabase
) -> None:
    import asyncio
    import time

    runs = tmp_path / "runs.txt"
    model = tmp_path / "recording"
    model.mkdir()
    (model / "predict.py").write_text(RECORDING.format(runs=str(runs)))
    (model / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )

    def ran() -> list[str]:
        return runs.read_text().split() if runs.exists() else []

    async with running_pier(tmp_path, database=str(own_database)) as pier:
        await pier.add_model("t/rec", model)
        warm = await pier.create("t/rec", {"text": "warm"}, wait=30)
        assert warm.json()["status"] == "succeeded", warm.text
        running = (await pier.create("t/rec", {"text": "kept", "sleep": 1.0})).json()["id"]
        deadline = time.monotonic() + 30
        while (await pier.client.get(f"/v1/predictions/{running}")).json()["status"] != (
            "processing"
        ):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)

        own_database.refuse_connections()
        refused = await pier.create("t/rec", {"text": "refused"})
        assert refused.status_code == 503, refused.text
        deadline = time.monotonic() + 30
        while "kept" not in ran():  # the running prediction ends while the database is away
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)

        own_database.allow_connections()
        ended = await pier.wait_done(running, timeout=30)
        assert (ended["status"], ended["output"]) == ("succeeded", "ran kept")
        assert "refused" not in ran()
        assert ran() == ["warm", "kept"]
