"""`pier accounts create` and `pier tokens list|create|revoke` against a server's database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from pier.store import Store
from tests.auth.test_tokens import bearer, eventually
from tests.conftest import running_pier


def pier(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pier.cli.main", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


async def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(pier, data_dir, *args)


async def test_accounts_create_prints_a_working_token_and_tokens_are_managed(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    nowhere = pier(data, "accounts", "create", "carol")  # no server keeps its data here
    assert nowhere.returncode == 1 and "no Pier database" in nowhere.stderr
    data.mkdir()
    await (await Store.open(f"sqlite:///{data / 'pier.db'}")).close()  # as `pier serve` leaves it
    made = pier(data, "accounts", "create", "carol", "--email", "carol@example.org", "--admin")
    assert made.returncode == 0, made.stderr
    first = made.stdout.strip()
    assert first.startswith("pier_") and "\n" not in first
    again = pier(data, "accounts", "create", "carol")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert pier(data, "accounts", "create", "Not A Name").returncode == 2
    assert pier(data, "accounts", "create", "dan", "--email", "nope").returncode == 2

    async with running_pier(tmp_path) as instance:
        client = instance.client
        me = (await client.get("/v1/account", headers=bearer(first))).json()
        assert (me["username"], me["email"], me["admin"]) == ("carol", "carol@example.org", True)
        cluster = await client.get("/v1/admin/cluster", headers=bearer(first))
        assert cluster.status_code == 200

        laptop = await run(data, "tokens", "create", "--username", "carol", "--name", "laptop")
        second = laptop.stdout.strip()
        assert (await client.get("/v1/account", headers=bearer(second))).status_code == 200

        async def listed_with_last_use() -> str | None:
            shown = await run(data, "tokens", "list", "--username", "carol")
            assert shown.returncode == 0, shown.stderr
            line = next(x for x in shown.stdout.splitlines() if "laptop" in x)
            return shown.stdout if line.count("Z") >= 2 else None  # created and last used

        listing = await eventually(listed_with_last_use, timeout=30)
        assert "first token" in listing and "api" in listing

        spare = await run(data, "tokens", "create", "--username", "carol", "--name", "spare")
        tokens = (await client.get("/v1/account/tokens", headers=bearer(second))).json()
        [spare_id] = [t["id"] for t in tokens["results"] if t["name"] == "spare"]
        revoked = await run(data, "tokens", "revoke", spare_id, "--username", "carol")
        assert revoked.returncode == 0 and spare_id in revoked.stdout
        # this server never cached the revoked token, so it is refused at once
        refused = await client.get("/v1/account", headers=bearer(spare.stdout.strip()))
        assert refused.status_code == 401
        other = await run(data, "tokens", "revoke", spare_id, "--username", "admin")
        assert other.returncode == 1 and "no token" in other.stderr

    # the older spelling still works
    old = pier(data, "token", "create", "--username", "carol")
    assert old.returncode == 0 and old.stdout.startswith("pier_")
