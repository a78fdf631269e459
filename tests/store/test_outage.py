"""A PostgreSQL that goes away: requests that need it answer 503 problem+json and nothing is
accepted half-way; when it comes back, the same server carries on without a restart.

The outage is real: the test's own database stops accepting connections and the open ones are
cut, as when a database server restarts or a network drops.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
