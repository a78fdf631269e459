"""`current_scope()`: what a running prediction can see and report besides its output."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol


class ScopeHooks(Protocol):
    """Where a scope's reports go; the runner's child process provides one per prediction."""

    def metric(self, name: str, value: float | int) -> None: ...

    def progress(self, current: int, total: int) -> None: ...


class Scope:
    """The running prediction's scope: its request context, metrics and progress."""

    def __init__(
        self, context: Mapping[str, str] | None = None, hooks: ScopeHooks | None = None
    ) -> None:
        self._context: dict[str, str] = dict(context or {})
        self._hooks = hooks
        self.metrics: dict[str, float | int] = {}

    @property
    def context(self) -> dict[str, str]:
        """The `context` of the request (Pier puts the prediction id under "id")."""
        return self._context

    def record_metric(self, name: str, value: float | int) -> None:
        """Report a number that appears in the prediction's `metrics` next to predict_time."""
        if not isinstance(name, str) or not name:
            raise ValueError("a metric name must be a non-empty string")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"metric {name!r} must be a number, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be a finite number")
        self.metrics[name] = value
        if self._hooks is not None:
            self._hooks.metric(name, value)

    def set_progress(self, current: int, total: int) -> None:
        """Report progress as `current` steps done out of `total` (a Pier extension)."""
        if total <= 0:
            raise ValueError("total must be positive")
        current = max(0, min(int(current), int(total)))
        if self._hooks is not None:
            self._hooks.progress(current, int(total))


_default_scope = Scope()
_current: Scope = _default_scope


def current_scope() -> Scope:
    """The scope of the prediction that is running now (a detached one outside the runner)."""
    return _current


def set_current_scope(scope: Scope | None) -> None:
    """Install the scope for the prediction about to run (None restores the detached one)."""
    global _current
    _current = scope if scope is not None else _default_scope


def emit_metric(name: str, value: float | int) -> None:
    """Older spelling of `current_scope().record_metric(name, value)`."""
    current_scope().record_metric(name, value)
