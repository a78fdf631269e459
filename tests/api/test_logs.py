"""A chatty model: the stored log keeps its end within `max_log_bytes` and says what it dropped,
and streams of it stay whole and resumable."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from pier import logtail
from pier.logtail import LogTail
from pier.stream.events import Cursor, next_events
from tests.api.test_stream import read_stream, served
from tests.conftest import query_database, running_pier

LIMIT = 64 * 1024
LINES = 30_000
WIDTH = 100  # characters per line before its newline (see print_many_lines.py)
PRINTED = LINES * (WIDTH + 1)
MARKER = re.compile(r"\[… (\S+ \S+) of earlier logs dropped \(([\d,]+) characters\) …\]")


def line_numbers(text: str) -> list[int]:
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith("line ")]


def test_stream_positions_of_a_capped_log_count_what_was_dropped() -> None:
    tail = LogTail(2048)
    for n in range(500):
        tail.append(f"line {n:04d}\n")
    row = {"status": "processing", "output": None, "logs": tail.text(), "error": None}
    [first], cursor = next_events(row, Cursor())
    assert first.data.startswith("[… ") and first.data.endswith("\nline 0499")
    assert cursor == Cursor(0, 500 * 10)
    # a reader who saw the dropped part up to line 10 is told it missed some
    [behind], _ = next_events(row, Cursor(0, 10 * 10))
    assert behind.data == first.data
    # one who read into the kept part gets just what follows
    [ahead], _ = next_events(row, Cursor(0, 498 * 10))
    assert ahead.data == "line 0498\nline 0499"
    for n in range(500, 600):  # more is printed and more dropped
        tail.append(f"line {n:04d}\n")
    row["logs"] = tail.text()
    [more], after = next_events(row, cursor)
    assert line_numbers(more.data) == list(range(500, 600)) and after == Cursor(0, 600 * 10)
    for n in range(600, 900):  # more than the cap while that reader was away
        tail.append(f"line {n:04d}\n")
    row["logs"] = tail.text()
    [away], _ = next_events(row, after)
    assert away.data.startswith("[… ") and line_numbers(away.data)[-1] == 899


async def test_a_log_far_past_the_cap_keeps_its_last_lines_and_says_what_it_dropped(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, max_log_bytes=LIMIT, database=database) as pier:
        await pier.add_fixture("t/chatty", "print_many_lines.py")
        created = (await pier.create("t/chatty", {"lines": LINES, "width": WIDTH})).json()
        body = await pier.wait_done(created["id"], timeout=60)
        sql = "SELECT status, logs FROM predictions WHERE id = :id"
        deadline = time.monotonic() + 10
        while True:  # the final write may commit just after the GET saw the end
            [(stored_status, stored)] = query_database(
                pier.services.settings, sql, id=created["id"]
            )
            if stored_status == "succeeded":
                break
            assert time.monotonic() < deadline, f"still {stored_status} in the store"
            await asyncio.sleep(0.02)
    assert body["status"] == "succeeded" and body["output"] == LINES
    assert stored == body["logs"]
    assert len(stored.encode()) <= LIMIT
    first, *rest = stored.splitlines()
    numbers = line_numbers("\n".join(rest))
    assert numbers == list(range(LINES - len(rest), LINES))  # the end, in whole lines
    assert len(rest) > (LIMIT - 200) // (WIDTH + 1)
    found = MARKER.fullmatch(first)
    assert found, first
    dropped = int(found.group(2).replace(",", ""))
    assert dropped == PRINTED - len("\n".join(rest) + "\n")
    assert found.group(1) == f"{dropped / 1e6:.1f} MB"


async def test_streams_of_a_capped_log_stay_in_order_and_resume(
    tmp_path: Path, database: str
) -> None:
    async with served(tmp_path, max_log_bytes=LIMIT, database=database) as pier:
        await pier.add_fixture("t/chatty", "print_many_lines.py")
        created = (await pier.create("t/chatty", {"lines": LINES, "width": WIDTH})).json()
        following = asyncio.create_task(read_stream(created["urls"]["stream"]))
        live = await asyncio.wait_for(following, 60)
        body = await pier.wait_done(created["id"])
        late = await read_stream(body["urls"]["stream"])
        behind = await read_stream(body["urls"]["stream"], {"Last-Event-ID": "0:5000"})
        log_ids = [e.id for e in late.events if e.event.value == "logs"]
        caught_up = await read_stream(body["urls"]["stream"], {"Last-Event-ID": log_ids[-1]})

    # the reader who followed along: every line it got is newer than the one before, the
    # last is the last printed, and where lines are missing it was told so
    positions = [int(e.id.split(":")[1]) for e in live.events if e.event.value == "logs"]
    assert positions == sorted(set(positions)) and positions[-1] == PRINTED
    seen = -1
    for event in (e for e in live.events if e.event.value == "logs"):
        for line in event.data.split("\n"):
            if line.startswith("[… "):
                seen = -2  # whatever comes next may skip ahead
                continue
            number = int(line.split()[1])
            assert number == seen + 1 or (seen == -2 and number > 0), (seen, line)
            seen = number
    assert seen == LINES - 1
    assert [e.event.value for e in live.events][-2:] == ["output", "done"]

    # a late reader and one resuming from a position that was dropped get the marker first
    for read in (late, behind):
        logs = [e.data for e in read.events if e.event.value == "logs"]
        assert len(logs) == 1 and MARKER.match(logs[0])
        assert line_numbers(logs[0])[-1] == LINES - 1
        assert read.events[-1].id == f"1:{PRINTED}:done"
    # one that read everything gets no log again
    assert [e.event.value for e in caught_up.events] == ["output", "done"]
    assert logtail.end(body["logs"]) == PRINTED
