"""Inside the model process: JSON inputs → the annotated Python types, outputs → JSON.

Input files arrive as local paths (the dispatcher downloads them); output files are copied
into the prediction's output directory and sent as `{"__pier_file__": "<absolute path>"}`.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import os
import pathlib
import shutil
import sys
import uuid
from typing import Any

from pier.runner.messages import FILE_KEY
from pier.sdk.signature import Kind, Signature, TypeNode
from pier.sdk.types import Path, Secret


class InputError(ValueError):
    """An input the model's signature cannot take."""


class Inputs:
    """The keyword arguments for one predict call, and the file handles to close after it."""

    def __init__(self, sig: Signature, raw: dict[str, Any]) -> None:
        self.opened: list[io.IOBase] = []
        self.kwargs: dict[str, Any] = {}
        for field in sig.inputs:
            if field.name in raw:
                self.kwargs[field.name] = self.coerce(field.type, raw[field.name], field.name)
            elif field.info.has_default:
                default = field.default
                is_raw = isinstance(default, str | int | float | list) and default is not None
                self.kwargs[field.name] = (
                    self.coerce(field.type, default, field.name) if is_raw else default
                )
            elif field.type.nullable:  # `file: Path | None` without a default: null, or say so
                raise InputError(f"{field.name}: Field required (it may be null, not left out)")
            else:
                raise InputError(f"missing required input {field.name!r}")
        if sig.accepts_kwargs:
            known = {f.name for f in sig.inputs}
            self.kwargs.update((k, v) for k, v in raw.items() if k not in known)

    def close(self) -> None:
        for handle in self.opened:
            try:
                handle.close()
            except Exception:  # noqa: BLE001,S110 - best effort cleanup
                pass
        self.opened.clear()

    def coerce(self, node: TypeNode, value: Any, name: str) -> Any:
        if value is None:
            return None
        kind = node.kind
        if kind is Kind.PATH:
            return Path(value)
        if kind is Kind.FILE:
            if isinstance(value, io.IOBase):
                return value
            handle = open(value, "rb")  # noqa: SIM115 - closed after the prediction
            self.opened.append(handle)
            return handle
        if kind is Kind.SECRET:
            return value if isinstance(value, Secret) else Secret(str(value))
        if kind is Kind.FLOAT and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind is Kind.LIST:
            items = value if isinstance(value, list | tuple) else [value]
            return [self.coerce(node.args[0], v, name) for v in items]
        if kind is Kind.UNION:
            return self.coerce(_pick(node, value), value, name)
        return value


def _fits(node: TypeNode, value: Any) -> bool:
    kind = node.kind
    if kind is Kind.LIST:
        return isinstance(value, list | tuple)
    if kind in (Kind.STR, Kind.PATH, Kind.FILE, Kind.SECRET):
        return isinstance(value, str)
    if kind is Kind.BOOL:
        return isinstance(value, bool)
    if kind is Kind.INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is Kind.FLOAT:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is Kind.LITERAL:
        return value in node.values
    return True


def _pick(node: TypeNode, value: Any) -> TypeNode:
    for option in node.args:
        if _fits(option, value):
            return option
    return TypeNode(Kind.ANY)


def _is_pydantic_model(value: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # no model class exists unless it was imported
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


# Deeper outputs fail the prediction with a clear error instead of exhausting the recursion
# limit somewhere between the model and the client.
MAX_OUTPUT_DEPTH = 100


class OutputEncoder:
    """Turns one output value into JSON, moving the files it names into `output_dir`."""

    def __init__(self, output_dir: str) -> None:
        self._output_dir = output_dir

    @property
    def output_dir(self) -> pathlib.Path:
        return pathlib.Path(self._output_dir)

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_OUTPUT_DEPTH:
            raise ValueError(
                f"The output is nested more than {MAX_OUTPUT_DEPTH} levels deep; "
                "Pier cannot send it as JSON"
            )
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value
        if isinstance(value, Secret):
            return str(value)
        if isinstance(value, os.PathLike):
            return {FILE_KEY: self.store_path(pathlib.Path(os.fspath(value)))}
        if isinstance(value, io.IOBase):
            return {FILE_KEY: self.store_stream(value)}
        if _is_pydantic_model(value):
            return self.encode(dict(value), depth + 1)
        if isinstance(value, dict):
            return {
                str(self.encode(k, depth + 1)): self.encode(v, depth + 1) for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, enum.Enum):
            return self.encode(value.value, depth + 1)
        if isinstance(value, datetime.datetime | datetime.date | datetime.time):
            return value.isoformat()
        if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
            return self.encode(value.tolist(), depth + 1)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.encode(
                {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth + 1
            )
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        raise TypeError(f"The output of type {type(value).__name__} cannot be sent as JSON")

    def _target(self, name: str) -> pathlib.Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        name = os.path.basename(name) or "output"
        target = self.output_dir / name
        if target.exists():
            target = self.output_dir / f"{uuid.uuid4().hex[:8]}-{name}"
        return target

    def store_path(self, source: pathlib.Path) -> str:
        source = source.absolute()
        if not source.is_file():
            problem = "is not a file" if source.exists() else "does not exist"
            raise FileNotFoundError(f"The output path {source} {problem}")
        if source.parent == self.output_dir.absolute():
            return str(source)
        target = self._target(source.name)
        shutil.copyfile(source, target)
        return str(target.absolute())

    def store_stream(self, stream: io.IOBase) -> str:
        target = self._target(str(getattr(stream, "name", "") or "output"))
        with open(target, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk.encode() if isinstance(chunk, str) else chunk)
        return str(target.absolute())
