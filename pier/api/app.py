"""`create_app(settings)`: the whole HTTP surface, wired to the store, files and dispatcher."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI

from pier.api import errors
from pier.api.deps import Services
from pier.api.limits import EdgeMiddleware
from pier.api.routes import account, files, models, predictions, web
from pier.bootstrap import BootInfo, bootstrap, register_builtins
from pier.dispatch import Dispatcher
from pier.files import FileStore, InputFetcher
from pier.settings import Settings
from pier.store import Store

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, on_ready: Callable[[BootInfo, list[str]], None] | None = None
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await Store.open(settings.database_url)
        http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
        file_store = FileStore(settings.data_dir / "files", store, settings.max_file_bytes)
        dispatcher = Dispatcher(
            settings, store, file_store, InputFetcher(file_store, http), settings.base_url
        )
        app.state.services = Services(settings, store, file_store, dispatcher, http)
        info = await bootstrap(store, settings)
        await dispatcher.start()
        names = []
        if settings.builtin_models:
            names = await register_builtins(store, dispatcher, settings, info.account)
        if on_ready:
            on_ready(info, names)
        try:
            yield
        finally:
            await dispatcher.stop()
            await http.aclose()
            await store.close()

    app = FastAPI(
        title="Pier", version="0.1.0", lifespan=lifespan, docs_url="/docs", redoc_url=None
    )
    errors.install(app)
    app.add_middleware(EdgeMiddleware, max_body=settings.max_request_bytes)
    for module in (predictions, models, files, account, web):
        app.include_router(module.router)
    return app
