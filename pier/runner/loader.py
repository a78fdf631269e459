"""Import a model's predictor from a `file.py:Attr` ref, the way Cog's legacy loader did."""

from __future__ import annotations

import importlib.util
import inspect
import os
import pathlib
import sys
import types
import typing
from typing import Any

from pier.runner import weights
from pier.sdk.types import File, Path

SHIM_DIR = pathlib.Path(__file__).resolve().parent.parent / "_shim"
NO_WEIGHTS: Any = object()


class LoadError(Exception):
    """The ref does not name something loadable (a missing file or attribute, a bad ref)."""


def prepare_process(model_dir: pathlib.Path) -> None:
    """Make this process look like Cog's: cwd = the model dir, which is importable, and our
    `cog` shim ahead of any installed `cog`."""
    os.chdir(model_dir)
    for entry in (str(model_dir), str(SHIM_DIR)):
        while entry in sys.path:
            sys.path.remove(entry)
    sys.path[:0] = [str(SHIM_DIR), str(model_dir)]
    for name in [m for m in sys.modules if m == "cog" or m.startswith("cog.")]:
        del sys.modules[name]
    weights.take_settings()  # the runner's own variables: the model does not see them


def forget_runner_path() -> None:
    """Undo the parent's PYTHONPATH addition (it only served to find this module), so neither
    the model nor its subprocesses see Pier's source root on their path."""
    extra = os.environ.pop("PIER_RUNNER_PATH", None)
    if not extra:
        return
    while extra in sys.path:
        sys.path.remove(extra)
    kept = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != extra]
    if kept:
        os.environ["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        os.environ.pop("PYTHONPATH", None)


def split_ref(ref: str) -> tuple[str, str]:
    file, sep, attr = ref.rpartition(":")
    if not sep or not file or not attr:
        raise LoadError(f"Invalid predictor reference {ref!r}: expected 'file.py:Name'")
    return file, attr


def import_ref(model_dir: pathlib.Path, ref: str) -> Any:
    """The class or function `ref` names. Exceptions raised by the module itself propagate."""
    file, attr = split_ref(ref)
    path = (model_dir / file).resolve()
    if not path.is_file():
        raise LoadError(f"Cannot find {file} in the model directory")
    name = path.stem
    if name in sys.modules:  # never shadow a module already loaded (`logging.py`, `inspect.py`)
        name = f"pier_model_{name}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"Cannot import {file}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    saved_argv = sys.argv
    sys.argv = sys.argv[:1]  # the model's own argparse must not see the runner's arguments
    try:
        spec.loader.exec_module(module)
    finally:
        sys.argv = saved_argv
    if not hasattr(module, attr):
        raise LoadError(f"Cannot find {attr!r} in {file} (the predictor named by {ref!r})")
    return getattr(module, attr)


def weights_argument(setup: Any) -> Any:
    """What to pass as `setup(weights=...)`: COG_WEIGHTS, else ./weights, else None, converted
    to the parameter's annotation (an http(s) URL is downloaded into the weights cache first,
    unless the parameter takes only `str`). NO_WEIGHTS when setup takes no `weights` parameter."""
    try:
        params = inspect.signature(setup).parameters
    except (TypeError, ValueError):
        return NO_WEIGHTS
    if "weights" not in params:
        return NO_WEIGHTS
    source = os.environ.get("COG_WEIGHTS") or ("weights" if os.path.exists("weights") else None)
    if source is None:
        return None
    try:
        hint = typing.get_type_hints(setup).get("weights")
    except Exception:  # noqa: BLE001 - an unresolvable hint just means "pass a Path"
        hint = None
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    if str in options and Path not in options and File not in options:
        return source
    if source.startswith("data:"):
        return _data_weights(source, File in options and Path not in options)
    if weights.is_url(source):  # downloaded once per machine, then handed over as a file
        source = str(weights.fetch(source))
    local = source.removeprefix("file://")
    if File in options and os.path.isfile(local):
        return open(local, "rb")  # noqa: SIM115 - the model keeps the handle
    if "://" in source:
        return source
    return Path(local)


def _data_weights(url: str, as_file: bool) -> Any:
    """A `data:` URL in COG_WEIGHTS: its bytes as an open file (`weights: File`), or written to
    a file in a fresh temporary directory whose path the model gets (`Path`), as Cog does."""
    import io
    import mimetypes
    import tempfile
    import urllib.request

    try:
        with urllib.request.urlopen(url) as response:  # noqa: S310 - only data: URLs get here
            data, mime = response.read(), response.headers.get_content_type()
    except (ValueError, OSError) as exc:
        raise ValueError(f"COG_WEIGHTS is not a valid data: URL ({exc})") from None
    if as_file:
        return io.BytesIO(data)
    target = pathlib.Path(tempfile.mkdtemp(prefix="weights-")) / (
        "weights" + (mimetypes.guess_extension(mime) or "")
    )
    target.write_bytes(data)
    return Path(target)
