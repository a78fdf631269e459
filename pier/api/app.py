"""`create_app(settings)`: the whole HTTP surface, wired to the store, files and dispatcher."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from pier.api import errors, openapi, serialize
from pier.api.deps import Services
from pier.api.limits import EdgeMiddleware
from pier.api.routes import account, files, models, predictions, stream, web
from pier.api.security import SecurityHeadersMiddleware
from pier.blobs import open_blobs
from pier.bootstrap import BootInfo, bootstrap, register_builtins
from pier.dispatch import Dispatcher
from pier.files import FileStore, InputFetcher
from pier.settings import Settings
from pier.store import Row, Store
from pier.stream import StreamHub
from pier.webhooks import WebhookSender
from pier.webhooks import client as webhook_client

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, on_ready: Callable[[BootInfo, list[str]], None] | None = None
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await Store.open(settings.database_url)
        http = webhook_client(settings.allow_private_input_urls, 30.0, follow_redirects=True)
        file_store = FileStore(
            open_blobs(settings.files, settings.data_dir),
            store,
            settings.max_file_bytes,
            settings.data_dir / "tmp",
            timedelta(seconds=settings.file_expiry_seconds),
        )
        dispatcher = Dispatcher(
            settings, store, file_store, InputFetcher(file_store, http), settings.base_url
        )
        app.state.services = Services(settings, store, file_store, dispatcher, http)
        app.state.streams = StreamHub.for_dispatcher(dispatcher)
        app.state.webhooks = hooks = _webhook_sender(settings, store, dispatcher)
        info = await bootstrap(store, settings)
        await dispatcher.start()
        hooks.start()  # after recovery, whose failed predictions have webhooks to send
        file_store.start()
        names = []
        if settings.builtin_models:
            names = await register_builtins(
                store, file_store.blobs, dispatcher, settings, info.account
            )
        if on_ready:
            on_ready(info, names)
        try:
            yield
        finally:
            await file_store.stop()
            await dispatcher.stop()
            await hooks.drain(timeout=2.0)
            await hooks.stop()
            await hooks.http.aclose()
            await http.aclose()
            await store.close()

    app = FastAPI(title="Pier", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    errors.install(app)
    app.add_middleware(EdgeMiddleware, max_body=settings.max_request_bytes)
    app.add_middleware(errors.LastResort)  # anything that escapes gets a response
    # Added last, so outermost: every response gets the security headers, errors included.
    app.add_middleware(SecurityHeadersMiddleware, base_url=settings.base_url)
    for module in (predictions, models, files, stream, account, web):
        app.include_router(module.router)
    openapi.install(app)
    return app


def _webhook_sender(settings: Settings, store: Store, dispatcher: Dispatcher) -> WebhookSender:
    """Webhooks go out in the background; each body is the prediction as GET shows it."""

    def render(row: Row) -> dict[str, Any]:
        # Webhooks go out once a prediction has started, so there is no queue to describe.
        return serialize.prediction(row, settings.base_url, None)

    async def secret_for(account_id: str) -> str | None:
        account = await store.get_account(account_id)
        return str(account["webhook_secret"]) if account else None

    http = webhook_client(settings.allow_private_webhooks, timeout=10.0)
    sender = WebhookSender(render, secret_for, http, store)
    dispatcher.listeners.append(sender.on_change)
    dispatcher.completed_webhook = sender.completed_record
    return sender
