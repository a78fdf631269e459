"""Shapes store rows into the objects of Replicate's API (plus Pier's extra fields)."""

from __future__ import annotations

from typing import Any

from pier.jobs import Kind, PredictionRecord, Status
from pier.store import Row
from pier.stream import stream_url
from pier.util import isoformat


def _job(row: PredictionRecord, base_url: str, kind: str, queue: dict[str, Any] | None) -> Row:
    """The fields predictions and trainings share; `kind` is the plural in their URLs."""
    job_id = row["id"]
    api = f"{base_url}/v1/{kind}/{job_id}"
    body = {
        "id": job_id,
        "model": row["model"],
        "version": row["version"],
        "input": row["input"],
        "output": row["output"],
        "logs": row["logs"],
        "error": row["error"],
        "status": row["status"],
        "created_at": isoformat(row["created_at"]),
        "started_at": isoformat(row["started_at"]),
        "completed_at": isoformat(row["completed_at"]),
        "metrics": row["metrics"] or {},
        "urls": {
            "get": api,
            "cancel": f"{api}/cancel",
            "web": f"{base_url}/{kind}/{job_id}",
            "stream": stream_url(base_url, row),
        },
        "source": row["source"],
        "data_removed": row.get("data_removed_at") is not None,
        "progress": row["progress"],
        "queue": queue,
    }
    if row.get("webhook"):
        body["webhook"] = row["webhook"]
        body["webhook_events_filter"] = row["webhook_events_filter"]
    return body


def prediction(
    row: PredictionRecord, base_url: str, queue: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = _job(row, base_url, "predictions", queue)
    body["tweaked_from"] = row.get("tweaked_from")
    if row.get("deployment"):
        body["deployment"] = row["deployment"]
    return body


def training(
    row: PredictionRecord,
    base_url: str,
    destination: str | None,
    queue: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A training as Replicate's API shows it; `destination` is its destination's "owner/name".
    On success `output` is {"version": "owner/name:<id>", "weights": <url>}."""
    body = _job(row, base_url, "trainings", queue)
    body["destination"] = destination
    return body


def job(
    row: PredictionRecord,
    base_url: str,
    destination: str | None = None,
    queue: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A prediction or a training, each in its own shape (what webhooks carry)."""
    if row.get("kind") == Kind.TRAINING:
        return training(row, base_url, destination, queue)
    return prediction(row, base_url, queue)


def waiting_prediction(
    row: PredictionRecord, base_url: str, queue: dict[str, Any] | None
) -> dict[str, Any]:
    """A `Prefer: wait` reply that ran out of time: `starting` with no output, whatever the
    prediction's phase (the official clients take any other status as the end, and poll only
    after `starting`)."""
    body = prediction(row, base_url, queue)
    body.update(status=Status.STARTING, output=None)
    return body


def version(row: Row) -> dict[str, Any]:
    """A version; `source` (a Pier extension) says where it came from: a push, or a training
    (its id, the base version and the training's input)."""
    return {
        "id": row["id"],
        "created_at": isoformat(row["created_at"]),
        "cog_version": row["cog_version"],
        "openapi_schema": row["openapi_schema"],
        "source": row.get("source") or {"kind": "push"},
    }


def model(
    row: Row,
    base_url: str,
    latest: Row | None,
    example: PredictionRecord | None,
) -> dict[str, Any]:
    owner, name = row["owner"], row["name"]
    own_cover = f"{base_url}/covers/{row['id']}" if row.get("cover_image") else None
    return {
        "url": f"{base_url}/models/{owner}/{name}",
        "owner": owner,
        "name": name,
        "description": row["description"],
        "visibility": row["visibility"],
        "github_url": row.get("github_url"),
        "paper_url": row.get("paper_url"),
        "license_url": row.get("license_url"),
        "run_count": row["run_count"],
        "cover_image_url": own_cover or row.get("cover_image_url"),
        "default_example": prediction(example, base_url) if example else None,
        "latest_version": version(latest) if latest else None,
        "is_official": False,
        "created_at": isoformat(row["created_at"]),
        "kind": row["kind"],
        "hardware": row.get("hardware"),
    }


def file(row: Row, base_url: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "content_type": row["content_type"],
        "size": row["size"],
        "etag": row["md5"],
        "checksums": {"sha256": row["sha256"], "md5": row["md5"]},
        "metadata": row["metadata"] or {},
        "created_at": isoformat(row["created_at"]),
        "expires_at": isoformat(row["expires_at"]),
        "urls": {"get": f"{base_url}/v1/files/{row['id']}"},
    }


def account(row: Row) -> dict[str, Any]:
    return {
        "type": row["type"],
        "username": row["username"],
        "name": row["name"],
        "github_url": None,
        "avatar_url": None,
    }


def page(results: list[Any], next_url: str | None) -> dict[str, Any]:
    return {"next": next_url, "previous": None, "results": results}
