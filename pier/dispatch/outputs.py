"""Collects a running prediction's outputs in order, turning model files into stored files."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pier.dispatch.live import Live
from pier.files import FileStore, public_url

FILE_KEY = "__pier_file__"


def has_files(value: Any) -> bool:
    if isinstance(value, dict):
        return FILE_KEY in value or any(has_files(v) for v in value.values())
    if isinstance(value, list):
        return any(has_files(v) for v in value)
    return False


class OutputSink:
    """Receives outputs from the runner (sync callbacks) and applies them to a Live in order.

    Values without files are applied at once; a value with files waits its turn behind any
    earlier one while its files are moved into storage.
    """

    def __init__(self, live: Live, files: FileStore, base_url: str, notify: Callable[[], None]):
        self.live = live
        self.files = files
        self.base_url = base_url
        self.notify = notify
        self.iterator = False
        self.items: list[Any] = []
        self.single: Any = None
        self._tail: asyncio.Task[None] | None = None

    def on_output_kind(self, iterator: bool) -> None:
        self.iterator = iterator
        if iterator:
            self.live.set(output=[])

    def on_output(self, value: Any) -> None:
        if self._tail is None and not has_files(value):
            self._apply(value)
            return
        previous = self._tail
        self._tail = asyncio.get_running_loop().create_task(self._apply_later(previous, value))

    async def _apply_later(self, previous: asyncio.Task[None] | None, value: Any) -> None:
        if previous is not None:
            await previous
        self._apply(await asyncio.to_thread(self._store_files, value))

    def _store_files(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {FILE_KEY}:
                row = self.files.prepare_output(
                    self.live.row["account_id"], Path(value[FILE_KEY]), self.live.id
                )
                self.live.file_rows.append(row)
                return public_url(self.base_url, row)
            return {k: self._store_files(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._store_files(v) for v in value]
        return value

    def _apply(self, value: Any) -> None:
        if self.iterator:
            self.items.append(value)
            self.live.set(output=self.items)
        else:
            self.single = value
        self.notify()

    async def final(self) -> Any:
        if self._tail is not None:
            await self._tail
        return list(self.items) if self.iterator else self.single
