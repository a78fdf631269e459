"""Shared fixtures: an in-process Pier app on a temporary data dir, and model directories."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from pier.api.app import create_app
from pier.api.deps import Services
from pier.bootstrap import BootInfo
from pier.registry import register
from pier.settings import Settings
from pier.store import migrate
from pier.store.engine import create_engine
from tests.blobs.moto import MotoServer, start_moto
from tests.postgres import ThrowAwayDatabase, postgres_or_skip

ROOT = Path(__file__).resolve().parents[1]
PREDICTORS = ROOT / "tests" / "fixtures" / "predictors"
BUILTIN = ROOT / "pier" / "builtin"


def model_dir(tmp: Path, fixture: str, cls: str = "Predictor") -> Path:
    """A Cog model directory holding one fixture predictor as predict.py."""
    target = tmp / f"model-{fixture.removesuffix('.py')}"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(PREDICTORS / fixture, target / "predict.py")
    (target / "cog.yaml").write_text(
        f'build:\n  python_version: "3.11"\npredict: "predict.py:{cls}"\n'
    )
    return target


@dataclass
class Pier:
    client: httpx.AsyncClient
    services: Services
    info: BootInfo
    token: str
    tmp: Path

    async def add_model(self, name: str, directory: Path) -> dict[str, Any]:
        services = self.services
        _, version, _ = await register(
            services.store,
            services.files.blobs,
            services.settings.data_dir,
            self.info.account,
            directory,
            name,
        )
        return version

    async def add_fixture(self, name: str, fixture: str) -> dict[str, Any]:
        return await self.add_model(name, model_dir(self.tmp, fixture))

    async def add_builtin(self, slug: str) -> dict[str, Any]:
        return await self.add_model(f"pier/{slug}", BUILTIN / slug)

    async def create(
        self, model: str, input: dict[str, Any], wait: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Prefer": f"wait={wait}"} if wait else {}
        return await self.client.post(
            f"/v1/models/{model}/predictions", json={"input": input}, headers=headers, **kwargs
        )

    async def wait_done(self, prediction_id: str, timeout: float = 30.0) -> dict[str, Any]:
        import asyncio
        import time

        deadline = time.monotonic() + timeout
        while True:
            body = (await self.client.get(f"/v1/predictions/{prediction_id}")).json()
            if body["status"] in ("succeeded", "failed", "canceled"):
                return body
            assert time.monotonic() < deadline, f"prediction still {body['status']}: {body}"
            await asyncio.sleep(0.02)


def test_settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings.load(
        {
            "data_dir": tmp_path / "data",
            "builtin_models": False,
            "port": 8000,
            "admin_token": "test-admin-token",
            "cancel_grace": 1.0,
            "setup_retry_after": 30.0,
            **changes,
        },
        env={},
    )


# The file stores a test can run on: `@pytest.mark.parametrize("files", FILE_STORES,
# indirect=True)` runs it on both; without it, `files` is the local default.
FILE_STORES = ["local", "s3"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture
def files(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The `files` setting: "" (DATA_DIR/files), or a fresh bucket on the test S3 server, with
    the AWS_* variables that reach it set for the test."""
    if getattr(request, "param", "local") == "local":
        return ""
    server: MotoServer = request.getfixturevalue("s3_server")
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    return f"s3://{server.new_bucket()}/pier"


def query_database(settings: Settings, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run SQL on the app's database behind its back (SQLite or PostgreSQL); rows it returns."""
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as db:
            result = db.execute(sa.text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


# The databases the app under test runs on: every test that uses `pier`, or asks for
# `database` and passes it to `running_pier`, runs on each.
DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[ThrowAwayDatabase]:
    postgres_or_skip()
    database = ThrowAwayDatabase()
    yield database
    database.drop()


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """The `database` setting: "" (SQLite at DATA_DIR/pier.db), or the emptied schema of this
    test session's PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    server: ThrowAwayDatabase = request.getfixturevalue("postgres_database")
    return server.emptied_schema()


@pytest.fixture
async def pier(tmp_path: Path, files: str, database: str) -> AsyncIterator[Pier]:
    async with running_pier(tmp_path, files=files, database=database) as instance:
        yield instance


@functools.cache
def migrated_sqlite() -> Path:
    """An empty SQLite database at the newest schema, made once per test session: a copy of
    it starts each test's server ready (running every migration costs most of a second)."""
    folder = tempfile.mkdtemp(prefix="pier-schema-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = Path(folder) / "pier.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


class running_pier:  # noqa: N801 - used as `async with running_pier(...)`
    def __init__(self, tmp_path: Path, **changes: Any) -> None:
        self.settings = test_settings(tmp_path, **changes)
        self.tmp = tmp_path
        self.info: BootInfo | None = None

    async def __aenter__(self) -> Pier:
        def ready(info: BootInfo, _names: list[str]) -> None:
            self.info = info

        if not self.settings.database:  # SQLite: start from a copy of a migrated database
            target = self.settings.data_dir / "pier.db"
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(migrated_sqlite(), target)

        self.app = create_app(self.settings, on_ready=ready)
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        assert self.info is not None
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=self.settings.base_url,
            headers={"Authorization": "Bearer test-admin-token"},
        )
        return Pier(self.client, self.app.state.services, self.info, "test-admin-token", self.tmp)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.lifespan.__aexit__(None, None, None)
