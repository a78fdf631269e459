"""`current_scope()`: what a running prediction can see and report besides its output."""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol

# A metric's value: a number, a string, or a list of them (as in Cog's newer SDK).
MetricValue = float | int | str | list[float | int | str]

# Metrics Pier gives a meaning to (see the README, "What a model can report"):
SEED = "seed"  # the random seed the prediction used, so a tweak can repeat it exactly
IGNORED_WORDS = "ignored_words"  # words of the prompt the model does not know and ignored


class ScopeHooks(Protocol):
    """Where a scope's reports go; the runner's child process provides one per prediction."""

    def metric(self, name: str, value: Any) -> None: ...  # value: a checked MetricValue

    def progress(self, current: int, total: int) -> None: ...


def _check_item(name: str, value: object) -> float | int | str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"metric {name!r} must be a number, a string or a list of them, "
            f"got {type(value).__name__}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"metric {name!r} must be a finite number")
    return value


class Scope:
    """The running prediction's scope: its request context, metrics and progress."""

    def __init__(
        self, context: Mapping[str, str] | None = None, hooks: ScopeHooks | None = None
    ) -> None:
        self._context: dict[str, str] = dict(context or {})
        self._hooks = hooks
        self.metrics: dict[str, MetricValue] = {}

    @property
    def context(self) -> dict[str, str]:
        """The `context` of the request (Pier puts the prediction id under "id")."""
        return self._context

    def record_metric(self, name: str, value: MetricValue) -> None:
        """Report a value that appears in the prediction's `metrics` next to predict_time: a
        number, a string or a list of them. `record_metric("seed", seed)` tells Pier the seed a
        prediction used (a tweak then repeats it); `record_metric("ignored_words", [...])` the
        prompt words the model ignored (shown beside the prompt)."""
        if not isinstance(name, str) or not name:
            raise ValueError("a metric name must be a non-empty string")
        checked: MetricValue
        if isinstance(value, list | tuple):
            checked = [_check_item(name, item) for item in value]
        else:
            checked = _check_item(name, value)
        self.metrics[name] = checked
        if self._hooks is not None:
            self._hooks.metric(name, checked)

    def set_progress(self, current: int, total: int) -> None:
        """Report progress as `current` steps done out of `total` (a Pier extension)."""
        if total <= 0:
            raise ValueError("total must be positive")
        current = max(0, min(int(current), int(total)))
        if self._hooks is not None:
            self._hooks.progress(current, int(total))


_default_scope = Scope()
_current: Scope = _default_scope
# Set inside each task of a model process that runs several predictions at once; it wins over
# the process-wide scope, which threads a sync predictor starts see too.
_task_scope: ContextVar[Scope | None] = ContextVar("pier_task_scope", default=None)


def current_scope() -> Scope:
    """The scope of the prediction that is running now (a detached one outside the runner)."""
    return _task_scope.get() or _current


def set_task_scope(scope: Scope) -> None:
    """Install the scope of the prediction that the current asyncio task runs."""
    _task_scope.set(scope)


def set_current_scope(scope: Scope | None) -> None:
    """Install the scope for the prediction about to run (None restores the detached one)."""
    global _current
    _current = scope if scope is not None else _default_scope


def emit_metric(name: str, value: MetricValue) -> None:
    """Older spelling of `current_scope().record_metric(name, value)`."""
    current_scope().record_metric(name, value)
