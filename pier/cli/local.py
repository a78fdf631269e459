"""`pier predict DIR`: run a model directory once in a fresh model process, no server."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from pier.cli.buildlog import BuildLog
from pier.cli.inputs import InputError, coerce_inputs
from pier.dispatch.outputs import FILE_KEY
from pier.envs import Env, EnvConfig, EnvError, prepare
from pier.jobs import Status
from pier.registry import ModelDir
from pier.runner.calls import PredictionEvents
from pier.runner.errors import SetupFailed
from pier.runner.inspect import inspect_model
from pier.runner.weights import MAX_BYTES_ENV, WEIGHTS_DIR_ENV
from pier.runner.worker import Worker
from pier.sdk.validate import validate_input
from pier.settings import Settings


def _save_files(value: Any, output_dir: Path, saved: list[Path]) -> Any:
    if isinstance(value, dict) and set(value) == {FILE_KEY}:
        source = Path(value[FILE_KEY])
        target = output_dir / source.name
        stem, n = target.stem, 1
        while target.exists():
            target = output_dir / f"{stem}-{n}{target.suffix}"
            n += 1
        shutil.move(str(source), target)
        saved.append(target)
        return str(target)
    if isinstance(value, dict):
        return {k: _save_files(v, output_dir, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_save_files(v, output_dir, saved) for v in value]
    return value


def _write_stderr(text: str) -> None:
    sys.stderr.write(text)


async def _run(directory: Path, pairs: list[tuple[str, str]], output_dir: Path) -> int:
    model_dir = ModelDir.read(directory)
    settings = Settings.load()
    try:
        with BuildLog().showing("Preparing the model's environment") as on_log:
            _, model_env = await prepare(
                model_dir.build,
                model_dir.path,
                EnvConfig.from_settings(settings),
                on_log,
                host=model_dir.builtin,
            )
    except EnvError as exc:
        raise InputError(str(exc)) from exc
    try:
        return await _run_in(model_dir, model_env, pairs, output_dir, settings)
    finally:
        model_env.release()


async def _run_in(
    model_dir: ModelDir,
    model_env: Env,
    pairs: list[tuple[str, str]],
    output_dir: Path,
    settings: Settings,
) -> int:
    inspected = await inspect_model(
        model_dir.path,
        model_dir.predict_ref,
        model_dir.train_ref,
        env=model_env.variables,
        python=model_env.python,
        runner_path=model_env.runner_path,
    )
    schema = inspected.schema
    payload = coerce_inputs(pairs, schema, lambda path: str(path.resolve()))
    inputs, errors = validate_input(schema, payload, required_nullable=inspected.required_nullable)
    if errors:
        raise InputError("; ".join(f"{e.field}: {e.description}" for e in errors))
    env = {
        WEIGHTS_DIR_ENV: str(settings.data_dir / "weights"),
        MAX_BYTES_ENV: str(settings.max_weights_bytes),
        **model_dir.environment,
        **model_env.variables,
    }
    worker = Worker(model_dir.path, model_dir.predict_ref, env=env)
    worker.python, worker.runner_path = model_env.python, model_env.runner_path
    streamed: list[Any] = []
    iterator = False

    def on_output(value: Any) -> None:
        if iterator and isinstance(value, str):
            sys.stdout.write(value)
            sys.stdout.flush()
        streamed.append(value)

    def on_kind(kind: bool) -> None:
        nonlocal iterator
        iterator = kind

    events = PredictionEvents(
        on_log=_write_stderr,
        on_output=on_output,
        on_output_kind=on_kind,
        on_progress=lambda *_: None,
        on_metric=lambda *_: None,
    )
    try:
        try:
            await worker.ensure_started()
        except SetupFailed as exc:
            sys.stderr.write((exc.logs or "") + f"\nError: setup failed: {exc}\n")
            return 1
        scratch = Path(tempfile.mkdtemp(prefix="pier-predict-"))
        try:
            result = await worker.predict("local", inputs, scratch, events)
            output_dir.mkdir(parents=True, exist_ok=True)
            saved: list[Path] = []
            output = _save_files(
                streamed if iterator else (streamed[-1] if streamed else None), output_dir, saved
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        await worker.stop()
    if result.status != Status.SUCCEEDED:
        sys.stderr.write(f"Error: prediction {result.status}: {result.error or ''}\n")
        return 1
    if iterator and all(isinstance(x, str) for x in streamed):
        sys.stdout.write("\n")
    elif saved:
        for path in saved:
            print(f"Saved {path}")
    elif output is not None:
        print(output if isinstance(output, str) else json.dumps(output, indent=2))
    return 0


def predict_local(directory: Path, pairs: list[tuple[str, str]], output_dir: Path) -> None:
    code = asyncio.run(_run(directory, pairs, output_dir))
    if code:
        raise SystemExit(code)
