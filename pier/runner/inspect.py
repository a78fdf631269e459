"""Describe a model without running its setup: `inspect_model()` → its OpenAPI schema, and
the inputs a request must name even though they may be null.

The predictor is imported in a throwaway subprocess (`python -m pier.runner.inspect`), so a
broken or heavy model never touches the server process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sys
from dataclasses import dataclass
from typing import Any

from pier.runner.errors import ModelLoadError
from pier.runner.process import child_env

INSPECT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Inspection:
    schema: dict[str, Any]  # the version's `openapi_schema`, as Cog writes it
    # Inputs typed `T | None` without a default: required, though null is a valid value. The
    # schema cannot tell them from `T | None = None`, so they are recorded beside it.
    required_nullable: list[str]


async def inspect_model(
    model_dir: pathlib.Path | str,
    predict_ref: str,
    train_ref: str | None = None,
    *,
    env: dict[str, str] | None = None,
    timeout: float = INSPECT_TIMEOUT,
    python: str | None = None,
    runner_path: str | None = None,
) -> Inspection:
    """The version's `openapi_schema` and its required nullable inputs. Raises ModelLoadError
    with a readable message when the predictor cannot be imported, is missing, or uses
    unsupported types. `python` and `runner_path` name the model's environment (pier.envs;
    default: Pier's own)."""
    model_dir = pathlib.Path(model_dir).resolve()
    if not model_dir.is_dir():
        raise ModelLoadError(f"The model directory {model_dir} does not exist")
    args = ["--model-dir", str(model_dir), "--predict", predict_ref]
    if train_ref:
        args += ["--train", train_ref]
    proc = await asyncio.create_subprocess_exec(
        python or sys.executable,
        "-m",
        "pier.runner.inspect",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=str(model_dir),
        env=child_env(env, runner_path),
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ModelLoadError(f"Loading {predict_ref} took longer than {timeout:g} s") from None
    return _result(out, err, proc.returncode, predict_ref)


def _result(out: bytes, err: bytes, code: int | None, ref: str) -> Inspection:
    try:
        body = json.loads(out)
    except ValueError:
        tail = err.decode(errors="replace").strip()[-2000:]
        raise ModelLoadError(f"Loading {ref} failed (exit code {code}): {tail}") from None
    if "error" in body:
        raise ModelLoadError(str(body["error"]))
    schema = body.get("schema")
    if not isinstance(schema, dict):
        raise ModelLoadError(f"Loading {ref} gave no schema")
    names = body.get("required_nullable", [])
    return Inspection(schema, [str(n) for n in names] if isinstance(names, list) else [])


def _load(ref: str) -> Any:
    from pier.runner.loader import LoadError, import_ref

    try:
        return import_ref(pathlib.Path.cwd(), ref)
    except LoadError:
        raise
    except SystemExit as exc:
        raise LoadError(f"Importing {ref} called sys.exit({exc.code})") from None
    except Exception as exc:
        raise LoadError(f"Error while importing {ref}: {type(exc).__name__}: {exc}") from exc


def _build(predict_ref: str, train_ref: str | None) -> dict[str, Any]:
    from pier.runner.loader import LoadError
    from pier.sdk.schema import openapi_schema
    from pier.sdk.signature import read_signature

    predictor = _load(predict_ref)
    trainer = _load(train_ref) if train_ref else None
    try:
        schema = openapi_schema(predictor, trainer)
        inputs = read_signature(predictor, "predict").inputs
    except TypeError as exc:
        raise LoadError(str(exc)) from None
    nullable = [f.name for f in inputs if f.must_be_given and not f.required]
    return {"schema": schema, "required_nullable": nullable}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pier.runner.inspect")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--predict", required=True)
    parser.add_argument("--train")
    args = parser.parse_args(argv)
    # The model may print while it is imported; keep our stdout for the JSON answer alone.
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    from pier.runner.loader import LoadError, forget_runner_path, prepare_process

    forget_runner_path()
    prepare_process(pathlib.Path(args.model_dir).resolve())
    try:
        body: dict[str, Any] = _build(args.predict, args.train)
    except LoadError as exc:
        body = {"error": str(exc)}
    answer.write(json.dumps(body))
    answer.flush()
    return 0 if "schema" in body else 1


if __name__ == "__main__":
    sys.exit(main())
