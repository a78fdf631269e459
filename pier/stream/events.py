"""A prediction's stream as a pure function of its state.

A stream holds no buffer of its own: the events of a prediction follow from its row (the
outputs list, the cumulative logs, the status), and every event id names the position reached
after it, `<outputs sent>:<log characters sent>`. So a late client, a reconnecting client
(`Last-Event-ID`) and a client of a prediction that finished before a restart all get the same
events, rebuilt from the live row or the stored one. Log positions count everything the model
printed, also what a long log dropped from its top (`pier.logtail`), so they never go back; a
reader who had not read the dropped part gets the log's marker line instead.

Outputs: each item of an iterator output is one `output` event as soon as the model yields it;
a plain output becomes events only once the prediction ends (a list gives one event per item).
Logs go out in whole lines while the prediction runs, and all of them at the end.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from pier import logtail
from pier.jobs import TERMINAL, PredictionRecord, Status
from pier.stream.sse import Event

# Stream tokens of models whose output is files start with this, so that their stream URL is
# under /v1/files/, which tells the JavaScript client to hand out each output as a FileOutput.
FILE_TOKEN_PREFIX = "f."
TEXT_PATH = "/v1/streams"
FILE_PATH = "/v1/files/streams"


@dataclass(frozen=True)
class Cursor:
    """How far a client has read: outputs and log characters sent, then `error` and `done`."""

    outputs: int = 0
    logs: int = 0
    stage: str = ""  # "" while following, "error" once the error event went out, then "done"

    @property
    def id(self) -> str:
        base = f"{self.outputs}:{self.logs}"
        return f"{base}:{self.stage}" if self.stage else base

    @classmethod
    def parse(cls, last_event_id: str | None) -> Cursor:
        """The cursor after the event a reconnecting client saw last; the start if unreadable."""
        if not last_event_id:
            return cls()
        parts = last_event_id.strip().split(":")
        try:
            outputs, logs = int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            return cls()
        stage = parts[2] if len(parts) > 2 and parts[2] in ("error", "done") else ""
        if outputs < 0 or logs < 0 or len(parts) > 3:
            return cls()
        return cls(outputs, logs, stage)


def output_items(row: PredictionRecord) -> list[Any]:
    output = row.get("output")
    if isinstance(output, list):
        return output
    if output is None or row["status"] not in TERMINAL:
        return []
    return [output]


def output_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _logs_end(logs: str, start: int, final: bool) -> int:
    """Where the logs that can go out now end: everything at the end, else whole lines."""
    if final:
        return len(logs)
    end = max(logs.rfind("\n", start), logs.rfind("\r", start))
    return end + 1 if end >= 0 else start


def _strip_line_end(text: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def next_events(row: PredictionRecord, cursor: Cursor) -> tuple[list[Event], Cursor]:
    """The events a client at `cursor` has not seen yet, and where they leave it."""
    if cursor.stage == "done":
        return [], cursor
    status = row["status"]
    final = status in TERMINAL
    outputs, logs_at, stage = cursor.outputs, cursor.logs, cursor.stage
    events: list[Event] = []
    if not stage:
        logs = row.get("logs") or ""
        dropped, kept_at = logtail.locate(logs)  # positions count what was dropped too
        base = dropped - kept_at  # a position minus `base` is an index into `logs`
        start = min(logs_at - base, len(logs))
        missed = start < kept_at  # the reader had not read all that was dropped
        if missed:  # it gets the marker line, which says so, then what is kept
            start = 0
        end = _logs_end(logs, max(start, kept_at), final)
        if end > max(start, kept_at) or (missed and final):
            logs_at = base + end
            events.append(Event("logs", _strip_line_end(logs[start:end]), f"{outputs}:{logs_at}"))
        items = output_items(row)
        while outputs < len(items):
            outputs += 1
            text = output_text(items[outputs - 1])
            events.append(Event("output", text, f"{outputs}:{logs_at}"))
        if final and status == Status.FAILED:
            stage = "error"
            detail = json.dumps({"detail": row.get("error") or "The prediction failed."})
            events.append(Event("error", detail, f"{outputs}:{logs_at}:error"))
    if final:
        stage = "done"
        reason = json.dumps(_done_reason(status))
        events.append(Event("done", reason, f"{outputs}:{logs_at}:done"))
    if not events:
        return events, cursor
    return events, Cursor(outputs, logs_at, stage)


def _done_reason(status: str) -> dict[str, str]:
    if status == Status.CANCELED:
        return {"reason": "canceled"}
    if status == Status.FAILED:
        return {"reason": "error"}
    return {}


# -- stream addresses -------------------------------------------------------------------------
def outputs_files(schema: dict[str, Any]) -> bool:
    """Whether a version's output is a file or a list of files (Cog's `format: uri`)."""
    output = schema.get("components", {}).get("schemas", {}).get("Output", {})
    if not isinstance(output, dict):
        return False
    items = output.get("items")
    return output.get("format") == "uri" or (
        isinstance(items, dict) and items.get("format") == "uri"
    )


def new_stream_token(schema: dict[str, Any]) -> str:
    """An unguessable token for a new prediction's stream URL (192 random bits)."""
    token = secrets.token_urlsafe(24)
    return FILE_TOKEN_PREFIX + token if outputs_files(schema) else token


def stream_url(base_url: str, row: PredictionRecord) -> str:
    token = str(row["stream_token"])
    path = FILE_PATH if token.startswith(FILE_TOKEN_PREFIX) else TEXT_PATH
    return f"{base_url}{path}/{row['id']}/{token}"
