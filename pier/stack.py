"""The parts every Pier process runs, put together once: the store, the file store, the
dispatcher (queue, pools, keeper) and the webhook sender.

`pier serve` runs them under the HTTP API; `pier worker` runs them alone. The same code, so a
worker on another machine does exactly what the embedded server does with the jobs it claims.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from pier.api import serialize
from pier.billing import alerts
from pier.billing.ledger import Settled
from pier.blobs import open_blobs
from pier.dispatch import Dispatcher
from pier.files import FileStore, InputFetcher
from pier.jobs import PredictionRecord
from pier.settings import Settings
from pier.store import Store
from pier.webhooks import WebhookSender
from pier.webhooks import client as webhook_client


@dataclass
class Stack:
    settings: Settings
    store: Store
    files: FileStore
    dispatcher: Dispatcher
    webhooks: WebhookSender
    http: httpx.AsyncClient  # for input downloads
    alerts: alerts.AlertContext


@contextlib.asynccontextmanager
async def opened(settings: Settings, **dispatcher_options: Any) -> AsyncIterator[Stack]:
    """The parts, built and wired but not started (see `running`)."""
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
        settings,
        store,
        file_store,
        InputFetcher(file_store, http),
        settings.base_url,
        **dispatcher_options,
    )
    hooks = _webhook_sender(settings, store, dispatcher)
    alert_context = _alerts(settings, store, dispatcher, hooks.http)
    try:
        yield Stack(settings, store, file_store, dispatcher, hooks, http, alert_context)
    finally:
        await hooks.http.aclose()
        await http.aclose()
        await store.close()


@contextlib.asynccontextmanager
async def running(stack: Stack) -> AsyncIterator[Stack]:
    """Start the parts (recovery first), and stop them in order at the end."""
    await stack.dispatcher.start()
    stack.webhooks.start()  # after recovery, whose failed predictions have webhooks to send
    stack.files.start()
    try:
        yield stack
    finally:
        await stack.files.stop()
        await stack.dispatcher.stop()
        await stack.webhooks.drain(timeout=2.0)
        await stack.webhooks.stop()
        await stack.alerts.drain(timeout=2.0)
        await stack.alerts.close()


def _webhook_sender(settings: Settings, store: Store, dispatcher: Dispatcher) -> WebhookSender:
    """Webhooks go out in the background; each body is the prediction as GET shows it."""

    def render(row: PredictionRecord) -> dict[str, Any]:
        # Webhooks go out once a job has started, so there is no queue to describe.
        return serialize.job(row, settings.base_url, dispatcher.destination_name(row))

    async def secret_for(account_id: str) -> str | None:
        account = await store.get_account(account_id)
        return str(account["webhook_secret"]) if account else None

    http = webhook_client(settings.allow_private_webhooks, timeout=10.0)
    sender = WebhookSender(render, secret_for, http, store)
    dispatcher.listeners.append(sender.on_change)
    dispatcher.completed_webhook = sender.completed_record
    return sender


def _alerts(
    settings: Settings, store: Store, dispatcher: Dispatcher, http: httpx.AsyncClient
) -> alerts.AlertContext:
    """Spend alerts are checked after every charge, in the background."""
    context = alerts.AlertContext(settings, store, http)

    def on_charge(settled: Settled) -> None:
        task = asyncio.get_running_loop().create_task(alerts.check(context, settled.account_id))
        context.tasks.add(task)  # drained and stopped at shutdown with the sends
        task.add_done_callback(context.tasks.discard)

    dispatcher.billing.on_charge = on_charge
    return context
