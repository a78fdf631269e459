"""Model directories: reading cog.yaml, hashing content into a version id, registering versions.

A version is immutable: when it is registered its directory is stored in the file store as one
archive named by its content hash, and unpacked from that archive under DATA_DIR/versions/<id>/
(pier/blobs/archive.py), so editing the source directory afterwards changes nothing that already
ran, and a worker on another machine runs the same bytes.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pier.blobs import Blobs
from pier.blobs.archive import ArchiveError, content_hash, store_version
from pier.envs import EnvConfig, EnvError, plan, prepare
from pier.runner.inspect import inspect_model
from pier.serving import ServingError, check_predictor, read_serving
from pier.store import Row, Store
from pier.util import utcnow

COG_VERSION = "0.16.12"  # the Cog contract Pier's runner implements, reported on versions
VISIBILITIES = ("public", "private")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}/[a-z0-9][a-z0-9_.-]{0,127}$")
# The built-in models run in Pier's own environment: their packages are Pier's `models` extra.
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


class ModelDirError(Exception):
    """A model directory Pier cannot register; the message says why and how to fix it."""


@dataclass
class ModelDir:
    path: Path
    predict_ref: str
    train_ref: str | None
    environment: dict[str, str]
    python_packages: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    build: dict[str, Any] = field(default_factory=dict)  # cog.yaml's build section

    @property
    def builtin(self) -> bool:
        return self.path.is_relative_to(BUILTIN_DIR)

    @classmethod
    def read(cls, path: Path) -> ModelDir:
        path = path.resolve()
        config_file = path / "cog.yaml"
        if not config_file.is_file():
            raise ModelDirError(f"{path} has no cog.yaml")
        try:
            config = yaml.safe_load(config_file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ModelDirError(f"{config_file} is not valid YAML: {exc}") from exc
        if not isinstance(config, dict):
            raise ModelDirError(f"{config_file} must be a mapping")
        predict_ref = config.get("predict") or config.get("run")
        if not predict_ref:
            raise ModelDirError(f'{config_file} has no `predict: "predict.py:Predictor"` entry')
        build = config.get("build") or {}
        if not isinstance(build, dict):
            raise ModelDirError(f"{config_file}: build must be a mapping")
        packages = [str(p) for p in build.get("python_packages") or []]
        requirements = build.get("python_requirements")
        if requirements:
            packages += _read_requirements(path / requirements)
        environment = {}
        for item in config.get("environment") or []:
            key, _, value = str(item).partition("=")
            environment[key] = value
        meta_file = path / "pier.yaml"
        meta = yaml.safe_load(meta_file.read_text()) if meta_file.is_file() else {}
        return cls(
            path, str(predict_ref), config.get("train"), environment, packages, meta or {}, build
        )


def _read_requirements(file: Path) -> list[str]:
    if not file.is_file():
        raise ModelDirError(f"python_requirements file {file} does not exist")
    lines = (line.split("#", 1)[0].strip() for line in file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def missing_packages(requirements: list[str]) -> list[str]:
    """Requirements whose distribution is not installed in Pier's environment."""
    missing = []
    for requirement in requirements:
        name = re.split(r"[<>=!~\[;@ ]", requirement, maxsplit=1)[0].strip()
        if not name:
            continue
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


def _ignore_log(text: str) -> None:
    return None


async def register(
    store: Store,
    blobs: Blobs,
    data_dir: Path,
    account: Row,
    source: Path,
    name: str,
    *,
    envs: EnvConfig | None = None,
    on_log: Callable[[str], None] = _ignore_log,
    visibility: str | None = None,
) -> tuple[Row, Row, bool]:
    """Register a directory as a version of model `name`; returns (model, version, created).

    The version's environment is built (or reused) first, its build log going to `on_log` line
    by line; a failed build registers nothing. The version's archive is stored in `blobs`
    (again, if the file store lacks it). `envs` defaults to DATA_DIR/envs with default settings.
    `visibility` ("public": every account may see and run it, or "private"), when given, is set
    on the model even if the version already existed; otherwise a new model takes pier.yaml's
    `visibility` (private by default) and an existing one keeps its own.
    """
    if not NAME_RE.match(name):
        raise ModelDirError(f"model name {name!r} must look like owner/name (lowercase)")
    if visibility is not None:
        checked_visibility(visibility, "visibility")
    model_dir = ModelDir.read(source)
    new_visibility = checked_visibility(
        model_dir.meta.get("visibility", "private"), "pier.yaml: visibility"
    )
    try:
        serving = read_serving(model_dir.path, model_dir.environment)
    except ServingError as exc:
        raise ModelDirError(str(exc)) from exc
    try:
        plan(model_dir.build, model_dir.path, host=model_dir.builtin)  # fail early, build later
    except EnvError as exc:
        raise ModelDirError(str(exc)) from exc
    missing = missing_packages(model_dir.python_packages) if model_dir.builtin else []
    if missing:
        raise ModelDirError(
            "this built-in model needs Python packages that are not installed in Pier's "
            "environment: " + ", ".join(missing) + " (pip install 'pier[models]')"
        )
    owner, model_name = name.split("/")
    model = await store.get_model(owner, model_name)
    if model is not None and model["account_id"] != account["id"]:
        raise ModelDirError(f"model {name} belongs to another account")
    cover = inside(model_dir.path, meta_path(model_dir.meta, "cover_image"), "cover_image")
    inside(model_dir.path, "README.md", "README.md")
    version_id = await asyncio.to_thread(content_hash, model_dir.path)
    existing = await store.get_version(model["id"], version_id) if model is not None else None
    try:
        target = await asyncio.to_thread(
            store_version, blobs, model_dir.path, version_id, data_dir / "versions"
        )
    except ArchiveError as exc:
        raise ModelDirError(
            f"{model_dir.path} changed while it was being added; add it again"
        ) from exc
    if model is not None and existing is not None:
        if visibility is not None and model["visibility"] != visibility:
            await store.update_model(model["id"], visibility=visibility)
            model["visibility"] = visibility
        return model, existing, False
    config = envs or EnvConfig(data_dir / "envs")
    try:
        spec, env = await prepare(
            model_dir.build, model_dir.path, config, on_log, host=model_dir.builtin
        )
    except EnvError as exc:
        raise ModelDirError(str(exc)) from exc
    try:
        inspected = await inspect_model(
            target,
            model_dir.predict_ref,
            model_dir.train_ref,
            env=env.variables,
            python=env.python,
            runner_path=env.runner_path,
        )
    finally:
        env.release()
    schema = inspected.schema
    output = schema.get("components", {}).get("schemas", {}).get("Output", {})
    try:
        check_predictor(target, model_dir.predict_ref, serving, output)
    except ServingError as exc:
        raise ModelDirError(str(exc)) from exc
    meta = model_dir.meta
    readme = target / "README.md"
    fields = {
        "description": meta.get("description"),
        "kind": meta.get("kind") or guess_kind(schema),
        "readme": readme.read_text() if readme.is_file() else None,
        "cover_image": _cover(target, cover),
        "example_input": meta.get("example"),
    }
    if visibility is not None:
        fields["visibility"] = visibility
    if fields["description"] is None:
        del fields["description"]  # a model keeps the description set over the API
    if model is None:
        fields.setdefault("visibility", new_visibility)
        model = await store.create_model(account["id"], owner, model_name, **fields)
    else:
        await store.update_model(model["id"], **fields)
        model.update(fields)
    version = {
        "model_id": model["id"],
        "id": version_id,
        "path": str(target),
        "predict_ref": model_dir.predict_ref,
        "train_ref": model_dir.train_ref,
        "environment": model_dir.environment,
        "openapi_schema": schema,
        "required_nullable": inspected.required_nullable,
        "cog_version": COG_VERSION,
        "env": spec.to_json() if spec is not None else None,
        "created_at": utcnow(),
        "source": {"kind": "push"},
    }
    await store.add_version(version)
    model["latest_version_id"] = version_id
    return model, version, True


def checked_visibility(value: object, what: str) -> str:
    if value not in VISIBILITIES:
        raise ModelDirError(f"{what} must be public or private, not {value!r}")
    return str(value)


def meta_path(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ModelDirError(f"pier.yaml: {key} must be a path relative to the model directory")
    return value


def inside(directory: Path, name: str | None, what: str) -> str | None:
    """`name` as a path relative to `directory`, refused when it leads out of it.

    Links are followed, so a link inside the directory that points outside it is refused too:
    whatever a model directory names is served to anyone who can see the model.
    """
    if name is None:
        return None
    root = directory.resolve()
    candidate = Path(name)
    resolved = (root / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(root):
        raise ModelDirError(
            f"{what} {name!r} points outside the model directory {root}; "
            "give a path inside it, like cover.png"
        )
    return resolved.relative_to(root).as_posix()


def _cover(directory: Path, name: str | None) -> str | None:
    path = directory / name if name else None
    return str(path) if path is not None and path.is_file() else None


def guess_kind(schema: dict[str, Any]) -> str:
    output = schema.get("components", {}).get("schemas", {}).get("Output", {})
    item = output.get("items", output) if output.get("type") == "array" else output
    if item.get("format") == "uri":
        return "image"
    if item.get("type") == "string":
        return "text"
    return "other"
