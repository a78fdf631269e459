"""Fixtures for the built-in models: import a model directory's predict.py the way the runner
does (Pier's `cog` shim first on sys.path, the model directory importable) and run setup()
once per test session."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "pier" / "builtin"
TRAINING = ROOT / "training"
SHIM = ROOT / "pier" / "_shim"


def require(module: str) -> ModuleType:
    """Import an optional dependency: skip without it, but fail under CI=true."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        message = f"{module} is not installed (pip install -e '.[models]' -c constraints.txt)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: {exc}")
        pytest.skip(message)


def import_predict(slug: str) -> ModuleType:
    """predict.py of pier/builtin/<slug>, imported under a unique module name."""
    model_dir = BUILTIN / slug
    for entry in (str(SHIM), str(model_dir)):
        if entry in sys.path:
            sys.path.remove(entry)
    sys.path[:0] = [str(SHIM), str(model_dir)]
    name = "predict_" + slug.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, model_dir / "predict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def defaults(predictor: Any, method: str = "predict") -> dict[str, Any]:
    """The default of every input that has one, as the runner would fill them in."""
    params = inspect.signature(getattr(predictor, method)).parameters
    values = {}
    for name, param in params.items():
        default = getattr(param.default, "default", param.default)
        if default is not inspect.Parameter.empty and default is not Ellipsis:
            values[name] = default
    return values


def call(predictor: Any, **overrides: Any) -> Any:
    return predictor.predict(**{**defaults(predictor), **overrides})


_PREDICTORS: dict[str, Any] = {}


@pytest.fixture(scope="session")
def load_predictor() -> Any:
    """load_predictor(slug) -> a set-up Predictor, shared by the whole session."""

    def load(slug: str) -> Any:
        require("torch")
        if slug not in _PREDICTORS:
            predictor = import_predict(slug).Predictor()
            predictor.setup()
            _PREDICTORS[slug] = predictor
        return _PREDICTORS[slug]

    return load


def training_module(name: str) -> ModuleType:
    """A module from training/ (those scripts import each other by plain name)."""
    require("torch")
    if str(TRAINING) not in sys.path:
        sys.path.insert(0, str(TRAINING))
    return importlib.import_module(name)
