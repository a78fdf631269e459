"""What `pier models add` shows while a model's environment is resolved and built."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape


class BuildLog:
    """Build log lines scroll on stderr (dimmed) under a spinner that says what is going on;
    without a terminal, they are plain lines."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self._status: Any = None

    def __call__(self, text: str) -> None:
        line = text.rstrip("\n")
        if line.startswith(("Resolving", "Building the environment")) and self._status:
            self._status.update(escape(line) + "…")
        self.console.print(escape(line), style="dim", soft_wrap=True)

    @contextlib.contextmanager
    def showing(self, what: str) -> Iterator[BuildLog]:
        if not self.console.is_terminal:
            yield self
            return
        with self.console.status(escape(what)) as status:
            self._status = status
            try:
                yield self
            finally:
                self._status = None
