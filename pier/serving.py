"""How a version wants to be served: several predictions at once, or gathered into batches.

Both are read from the version's own directory, so they travel with it to every worker:

- `concurrency: {max: N}` in cog.yaml (as in Cog; `COG_MAX_CONCURRENCY` in the model's
  `environment` overrides it): one model process runs up to N predictions at once. Only an
  `async def predict` can, since they share one event loop.
- `batch: {method: predict_batch, max_size: 32, max_wait_ms: 10}` in pier.yaml (a Pier
  extension): the worker gathers up to `max_size` waiting predictions of the version, waiting at
  most `max_wait_ms` for more once it has one, and calls `method` once with the list of their
  inputs (each a dict of keyword arguments, as `predict` would get them); the method returns a
  list of outputs in the same order.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_CONCURRENCY = 256
MAX_BATCH_SIZE = 1024
MAX_BATCH_WAIT_MS = 10_000


class ServingError(ValueError):
    """A concurrency or batch setting Pier cannot honour; the message says how to fix it."""


@dataclass(frozen=True)
class Batch:
    method: str = "predict_batch"
    max_size: int = 32
    max_wait_ms: float = 10.0

    @property
    def max_wait(self) -> float:
        return self.max_wait_ms / 1000.0


@dataclass(frozen=True)
class Serving:
    concurrency: int = 1
    batch: Batch | None = None


def _load(file: Path) -> dict[str, Any]:
    if not file.is_file():
        return {}
    try:
        body = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ServingError(f"{file.name} is not valid YAML: {exc}") from exc
    return body if isinstance(body, dict) else {}


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ServingError(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ServingError(f"{what} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ServingError(f"{what} must be from {low} to {high}, not {number}")
    return number


def read_serving(model_dir: Path, environment: dict[str, str] | None = None) -> Serving:
    """The serving settings of a model directory; ServingError when one is malformed."""
    cog = _load(model_dir / "cog.yaml")
    concurrency = 1
    section = cog.get("concurrency")
    if section is not None:
        if not isinstance(section, dict):
            raise ServingError("cog.yaml: concurrency must be a mapping like `max: 4`")
        if section.get("max") is not None:
            concurrency = _whole(section["max"], "cog.yaml: concurrency.max", 1, MAX_CONCURRENCY)
    override = (environment or {}).get("COG_MAX_CONCURRENCY")
    if override:
        concurrency = _whole(override, "COG_MAX_CONCURRENCY", 1, MAX_CONCURRENCY)
    batch = _read_batch(_load(model_dir / "pier.yaml").get("batch"))
    if batch is not None and concurrency > 1:
        raise ServingError(
            "pier.yaml asks for batches and cog.yaml for concurrency.max > 1: choose one "
            "(a batch already runs many predictions in one call)"
        )
    return Serving(concurrency, batch)


def _read_batch(section: Any) -> Batch | None:
    if section is None or section is False:
        return None
    if not isinstance(section, dict):
        raise ServingError(
            "pier.yaml: batch must be a mapping like "
            "`{method: predict_batch, max_size: 32, max_wait_ms: 10}`"
        )
    unknown = set(section) - {"method", "max_size", "max_wait_ms"}
    if unknown:
        raise ServingError(
            f"pier.yaml: batch has unknown keys {sorted(unknown)}; "
            "it takes method, max_size and max_wait_ms"
        )
    method = section.get("method", Batch.method)
    if not isinstance(method, str) or not method.isidentifier() or method.startswith("_"):
        raise ServingError(f"pier.yaml: batch.method must name a method, not {method!r}")
    size = _whole(
        section.get("max_size", Batch.max_size), "pier.yaml: batch.max_size", 1, MAX_BATCH_SIZE
    )
    wait = section.get("max_wait_ms", Batch.max_wait_ms)
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait:
        raise ServingError(f"pier.yaml: batch.max_wait_ms must be a number ≥ 0, not {wait!r}")
    if wait > MAX_BATCH_WAIT_MS:
        raise ServingError(f"pier.yaml: batch.max_wait_ms must be at most {MAX_BATCH_WAIT_MS}")
    return Batch(method, size, float(wait))


def check_predictor(model_dir: Path, ref: str, serving: Serving, output: dict[str, Any]) -> None:
    """Refuse settings the predictor cannot honour, read from its source (not run): a sync
    `predict` with concurrency.max > 1, a batch method that does not exist, or batches of a
    model that streams its output. `output` is the Output schema of the version."""
    if serving.concurrency == 1 and serving.batch is None:
        return
    methods = _methods(model_dir, ref)
    if serving.concurrency > 1 and methods.get("predict") is False:
        raise ServingError(
            f"cog.yaml sets concurrency.max to {serving.concurrency}, but predict() in {ref} is "
            "not async: several predictions at once need `async def predict` (as in Cog)"
        )
    if serving.batch is not None:
        if output.get("x-cog-array-type") == "iterator":
            raise ServingError(
                "pier.yaml asks for batches, but predict() streams its output (an iterator): "
                "batches need one whole output per prediction"
            )
        method = serving.batch.method
        if methods and method not in methods:
            raise ServingError(
                f"pier.yaml: batch.method is {method!r}, but {ref} has no method of that name; "
                f"define `def {method}(self, inputs: list[dict]) -> list` beside predict()"
            )


def _methods(model_dir: Path, ref: str) -> dict[str, bool]:
    """Methods the predictor class in `ref` defines itself, mapped to whether they are async
    (empty when the source cannot be read this way, e.g. a class defined elsewhere)."""
    file, _, name = ref.partition(":")
    path = model_dir / file
    if not name or not path.is_file():
        return {}
    try:
        tree = ast.parse(path.read_text(), os.fspath(path))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            if any(_base_name(base) not in ("BasePredictor", "object") for base in node.bases):
                return {}  # it may inherit what it lacks here
            return {
                item.name: isinstance(item, ast.AsyncFunctionDef)
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            }
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return {"predict": isinstance(node, ast.AsyncFunctionDef)}
    return {}


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
