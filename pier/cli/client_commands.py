"""CLI commands that talk to a Pier server over HTTP, and `pier predict` (no server)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from pier.cli.inputs import InputError, coerce_inputs, parse_pairs
from pier.cli.progress import RunDisplay
from pier.jobs import TERMINAL, Status
from pier.settings import Settings

UrlOpt = Annotated[str | None, typer.Option("--url", help="Server URL [PIER_URL].")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="API token [PIER_TOKEN].")]
InputOpt = Annotated[
    list[str] | None, typer.Option("-i", "--input", help="name=value, or name=@file to upload.")
]


def fail(message: str) -> typer.Exit:
    typer.secho(f"Error: {message}", fg="red", err=True)
    return typer.Exit(1)


class Api:
    def __init__(self, url: str | None, token: str | None) -> None:
        env_url = os.environ.get("PIER_URL")
        self.url = (url or env_url or "http://127.0.0.1:8000").rstrip("/")
        self.url_from = "--url" if url else "PIER_URL" if env_url else "the default"
        self.token_from = (
            "--token" if token else "PIER_TOKEN" if os.environ.get("PIER_TOKEN") else None
        )
        token = token or os.environ.get("PIER_TOKEN")
        if token is None:
            token = self._saved_token()
            self.token_from = str(self.token_path()) if token else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=60.0)

    @staticmethod
    def token_path() -> Path:
        return Settings.load().data_dir / "admin-token"

    @classmethod
    def _saved_token(cls) -> str | None:
        path = cls.token_path()
        return path.read_text().strip() if path.is_file() else None

    def unreachable(self, exc: Exception) -> str:
        return (
            f"cannot reach Pier at {self.url} (from {self.url_from}): {exc}\n"
            "Start it with `pier serve`, or point the CLI at a running server with --url URL "
            "or PIER_URL=URL."
        )

    def unauthorized(self, detail: str) -> str:
        sent = f"the token from {self.token_from}" if self.token_from else "no token"
        return (
            f"401 from {self.url} (from {self.url_from}), which was sent {sent}: {detail}\n"
            "Pass a token of this server with --token or PIER_TOKEN (make one with `pier token "
            f"create` or copy it from the playground's account menu), or save it in "
            f"{self.token_path()}; if this is the wrong server, use --url or PIER_URL."
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise fail(self.unreachable(exc)) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = body.get("detail") or body.get("title") or response.text
            except ValueError:
                detail = response.text
            if response.status_code == 401:
                raise fail(self.unauthorized(str(detail).strip()))
            raise fail(f"{response.status_code}: {str(detail).strip()}")
        return response.json() if response.content else None


def models_list(url: UrlOpt = None, token: TokenOpt = None) -> None:
    """List the models you can run."""
    page = Api(url, token).call("GET", "/v1/models")
    for model in page["results"]:
        version = (model.get("latest_version") or {}).get("id", "")[:12]
        typer.echo(
            f"{model['owner']}/{model['name']:<28} {version:<13} {model.get('kind', '')}"
            f"  {model.get('description') or ''}"
        )


def predictions_list(url: UrlOpt = None, token: TokenOpt = None) -> None:
    """List your predictions, newest first."""
    page = Api(url, token).call("GET", "/v1/predictions")
    for p in page["results"]:
        typer.echo(f"{p['id']}  {p['status']:<10} {p['model']:<28} {p['created_at']}")


def predictions_get(prediction_id: str, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Print a prediction as JSON."""
    typer.echo(
        json.dumps(Api(url, token).call("GET", f"/v1/predictions/{prediction_id}"), indent=2)
    )


def predictions_cancel(prediction_id: str, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Cancel a queued or running prediction."""
    p = Api(url, token).call("POST", f"/v1/predictions/{prediction_id}/cancel")
    typer.echo(f"{p['id']} {p['status']}")


def run(
    ref: Annotated[str, typer.Argument(help="owner/name or owner/name:version")],
    inputs: InputOpt = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    output_dir: Annotated[Path, typer.Option(help="Where file outputs are saved.")] = Path("."),
) -> None:
    """Run a model on a Pier server: shows the queue and progress, saves file outputs."""
    api = Api(url, token)
    model_ref, _, version = ref.partition(":")
    if model_ref.count("/") != 1:
        raise fail(f"{ref!r} is not owner/name or owner/name:version")
    model = api.call("GET", f"/v1/models/{model_ref}")
    schema_owner = model.get("latest_version") or {}
    if version:
        schema_owner = api.call("GET", f"/v1/models/{model_ref}/versions/{version}")
    try:
        pairs = parse_pairs(inputs or [])
        payload = coerce_inputs(
            pairs, schema_owner.get("openapi_schema") or {}, lambda path: _upload(api, path)
        )
    except InputError as exc:
        raise fail(str(exc)) from exc
    if version:
        prediction = api.call(
            "POST", "/v1/predictions", json={"version": version, "input": payload}
        )
    else:
        prediction = api.call(
            "POST", f"/v1/models/{model_ref}/predictions", json={"input": payload}
        )
    prediction = _follow(api, prediction)
    _finish(api, prediction, output_dir)


def _upload(api: Api, path: Path) -> str:
    with path.open("rb") as handle:
        file = api.call("POST", "/v1/files", files={"content": (path.name, handle)})
    return str(file["urls"]["get"])


def _follow(api: Api, prediction: dict[str, Any]) -> dict[str, Any]:
    display = RunDisplay(prediction["id"])
    try:
        while True:
            display.update(prediction)
            if prediction["status"] in TERMINAL:
                return prediction
            time.sleep(0.25)
            prediction = api.call("GET", f"/v1/predictions/{prediction['id']}")
    except KeyboardInterrupt:
        typer.echo("\nCanceling…", err=True)
        api.call("POST", f"/v1/predictions/{prediction['id']}/cancel")
        raise typer.Exit(130) from None
    finally:
        display.close()


def _finish(api: Api, prediction: dict[str, Any], output_dir: Path) -> None:
    if prediction["status"] == Status.FAILED:
        raise fail(prediction.get("error") or "the prediction failed")
    if prediction["status"] == Status.CANCELED:
        raise fail("the prediction was canceled")
    output = prediction.get("output")
    saved = _save_files(api, output, output_dir)
    for path in saved:
        typer.echo(f"Saved {path}")
    streamed = isinstance(output, list) and all(isinstance(x, str) for x in output)
    if saved or streamed or output is None:
        return
    typer.echo(output if isinstance(output, str) else json.dumps(output, indent=2))


def _save_files(api: Api, output: Any, output_dir: Path) -> list[Path]:
    urls = output if isinstance(output, list) else [output]
    files = [u for u in urls if isinstance(u, str) and u.startswith(f"{api.url}/files/")]
    saved = []
    output_dir.mkdir(parents=True, exist_ok=True)
    for index, file_url in enumerate(files):
        name = file_url.rsplit("/", 1)[-1] or f"output-{index}"
        target = output_dir / name
        if target.exists():
            target = output_dir / f"{target.stem}-{index}{target.suffix}"
        response = api.http.get(file_url)
        response.raise_for_status()
        target.write_bytes(response.content)
        saved.append(target)
    return saved


def predict(
    directory: Annotated[Path, typer.Argument(help="A model directory (cog.yaml + predict.py).")],
    inputs: InputOpt = None,
    output_dir: Annotated[Path, typer.Option(help="Where file outputs are saved.")] = Path("."),
) -> None:
    """Run a local model directory once, without a server (like `cog predict`)."""
    from pier.cli.local import predict_local

    try:
        predict_local(directory, parse_pairs(inputs or []), output_dir)
    except InputError as exc:
        raise fail(str(exc)) from exc
