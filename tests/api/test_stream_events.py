"""The SSE wire format and the events a prediction's state turns into (no server needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from replicate.stream import EventSource, ServerSentEvent

from pier.stream.events import Cursor, new_stream_token, next_events, outputs_files, stream_url
from pier.stream.sse import KEEPALIVE, Event, comment


def decode(raw: bytes) -> list[ServerSentEvent]:
    """Parse with the official Python client's own decoder."""
    decoder = EventSource.Decoder()
    found = []
    for line in raw.decode().split("\n"):
        event = decoder.decode(line)
        if event is not None:
            found.append(event)
    return found


def row(**fields: Any) -> dict[str, Any]:
    base = {"id": "p1", "status": "processing", "output": None, "logs": "", "error": None}
    return {**base, **fields}


def test_event_has_event_id_data_lines_and_a_blank_line() -> None:
    raw = Event("output", "Once upon", "1:0").encode()
    assert raw == b"event: output\nid: 1:0\ndata: Once upon\n\n"
    [event] = decode(raw)
    assert (event.event.value, event.id, event.data) == ("output", "1:0", "Once upon")


@pytest.mark.parametrize(
    "data", ["two\nlines", "\n", "", " leading space", "trailing\n", "a\n\nb", "ünïcode ✓"]
)
def test_data_round_trips_through_the_python_client(data: str) -> None:
    [event] = decode(Event("output", data, "3:0").encode())
    assert event.data == data


def test_carriage_returns_become_line_breaks() -> None:
    raw = Event("logs", "10%\r20%\r\n30%", "0:9").encode()
    assert raw.count(b"data: ") == 3
    assert decode(raw)[0].data == "10%\n20%\n30%"


def test_comments_are_ignored_by_the_client() -> None:
    raw = comment("pier stream") + KEEPALIVE + Event("done", "{}", "0:0:done").encode()
    assert [e.event.value for e in decode(raw)] == ["done"]


def test_iterator_outputs_stream_as_they_grow_and_logs_in_whole_lines() -> None:
    state = row(output=["Once "], logs="booting\npartial")
    events, cursor = next_events(state, Cursor())
    assert [(e.name, e.data) for e in events] == [("logs", "booting"), ("output", "Once ")]
    assert cursor == Cursor(outputs=1, logs=len("booting\n"))
    assert events[-1].id == cursor.id

    assert next_events(state, cursor) == ([], cursor)  # nothing new: nothing sent
    state["output"].append("upon")
    state["logs"] += " line\n"
    events, cursor = next_events(state, cursor)
    assert [(e.name, e.data) for e in events] == [("logs", "partial line"), ("output", "upon")]


def test_success_ends_with_done_and_sends_trailing_logs() -> None:
    state = row(status="succeeded", output=["a", "b"], logs="no newline at the end")
    events, cursor = next_events(state, Cursor(outputs=1))
    assert [(e.name, e.data) for e in events] == [
        ("logs", "no newline at the end"),
        ("output", "b"),
        ("done", "{}"),
    ]
    assert cursor.stage == "done"
    assert next_events(state, cursor) == ([], cursor)


def test_plain_output_is_sent_once_the_prediction_ends() -> None:
    running = row(output=None)
    assert next_events(running, Cursor())[0] == []
    events, _ = next_events(row(status="succeeded", output={"n": 1}), Cursor())
    assert [(e.name, e.data) for e in events] == [("output", '{"n":1}'), ("done", "{}")]
    events, _ = next_events(row(status="succeeded", output="http://x/files/t/a.png"), Cursor())
    assert events[0].data == "http://x/files/t/a.png"


def test_failure_sends_error_then_done_with_reason() -> None:
    events, cursor = next_events(row(status="failed", error="CUDA out of memory"), Cursor())
    assert [e.name for e in events] == ["error", "done"]
    assert json.loads(events[0].data) == {"detail": "CUDA out of memory"}
    assert json.loads(events[1].data) == {"reason": "error"}
    # a client that saw the error and reconnects gets only the done
    again, _ = next_events(row(status="failed", error="x"), Cursor.parse(events[0].id))
    assert [e.name for e in again] == ["done"]


def test_cancel_ends_with_reason_canceled() -> None:
    events, _ = next_events(row(status="canceled", output=["partial"]), Cursor())
    assert [e.name for e in events] == ["output", "done"]
    assert json.loads(events[-1].data) == {"reason": "canceled"}


def test_reconnecting_with_last_event_id_resumes_after_it() -> None:
    state = row(status="succeeded", output=["a", "b", "c"], logs="one\ntwo\n")
    full, _ = next_events(state, Cursor())
    ids = [e.id for e in full]
    assert len(set(ids)) == len(ids)
    for index, event in enumerate(full[:-1]):
        rest, _ = next_events(state, Cursor.parse(event.id))
        assert rest == full[index + 1 :]


@pytest.mark.parametrize("bad", [None, "", "garbage", "1", "a:b", "-1:0", "1:2:3:4", "1:2:x:"])
def test_unreadable_last_event_id_replays_from_the_start(bad: str | None) -> None:
    assert Cursor.parse(bad) == Cursor()


def test_shorter_stored_logs_than_the_cursor_do_not_break_the_stream() -> None:
    # after a restart the store may hold fewer log characters than a client saw live
    events, _ = next_events(row(status="failed", logs="ab", error="x"), Cursor(0, 10))
    assert [e.name for e in events] == ["error", "done"]


FILE_SCHEMA = {"components": {"schemas": {"Output": {"type": "string", "format": "uri"}}}}
FILES_SCHEMA = {
    "components": {
        "schemas": {"Output": {"type": "array", "items": {"type": "string", "format": "uri"}}}
    }
}
TEXT_SCHEMA = {
    "components": {
        "schemas": {
            "Output": {"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator"}
        }
    }
}


def test_file_output_models_stream_under_v1_files() -> None:
    assert outputs_files(FILE_SCHEMA) and outputs_files(FILES_SCHEMA)
    assert not outputs_files(TEXT_SCHEMA) and not outputs_files({})
    files = {"id": "p1", "stream_token": new_stream_token(FILE_SCHEMA)}
    text = {"id": "p2", "stream_token": new_stream_token(TEXT_SCHEMA)}
    assert stream_url("http://h:1", files).startswith("http://h:1/v1/files/streams/p1/f.")
    assert stream_url("http://h:1", text).startswith("http://h:1/v1/streams/p2/")


def test_stream_tokens_are_unguessable() -> None:
    tokens = {new_stream_token(TEXT_SCHEMA) for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 32 for t in tokens)
