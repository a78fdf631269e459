"""A prediction's log kept to its last N bytes: what stays, what the marker says, what it costs."""

from __future__ import annotations

import pytest

from pier import logtail
from pier.logtail import LogTail


def lines(start: int, stop: int, text: str = "") -> list[str]:
    return [f"line {n:06d}{text}\n" for n in range(start, stop)]


def test_under_the_limit_the_log_is_exactly_what_was_printed() -> None:
    tail = LogTail(4096)
    for line in lines(0, 10):
        tail.append(line)
    assert tail.text() == "".join(lines(0, 10))
    assert tail.end == len(tail.text()) and tail.dropped_chars == 0


@pytest.mark.parametrize("text", ["", " ascii filler", " ünïcödé ✓ 日本語"])
def test_past_the_limit_the_end_is_kept_in_whole_lines_under_the_limit(text: str) -> None:
    tail = LogTail(4096)
    printed = lines(0, 5000, text)
    for line in printed:
        tail.append(line)
    stored = tail.text()
    assert len(stored.encode()) <= 4096
    marker, *kept = stored.splitlines(keepends=True)
    assert kept == printed[-len(kept) :]  # whole lines, the newest ones
    # all the room the marker leaves is used, short of one line
    assert len("".join(kept).encode()) > 4096 - logtail.MARKER_ROOM - len(printed[0].encode())
    dropped = printed[: -len(kept)]
    size = logtail.human_size(len("".join(dropped).encode()))
    assert (
        marker == f"[… {size} of earlier logs dropped ({len(''.join(dropped)):,} characters) …]\n"
    )
    assert logtail.split(stored) == (len("".join(dropped)), "".join(kept))
    assert logtail.end(stored) == tail.end == len("".join(printed))


def test_a_single_line_longer_than_the_limit_keeps_its_end() -> None:
    tail = LogTail(2048)
    tail.append("a" * 10_000 + "b" * 100 + "\n")
    stored = tail.text()
    assert len(stored.encode()) <= 2048 and stored.endswith("b" * 100 + "\n")
    assert logtail.end(stored) == 10_101


def test_a_stored_log_picks_up_where_it_was() -> None:
    first = LogTail(4096)
    for line in lines(0, 1000):
        first.append(line)
    again = LogTail(4096, first.text())
    assert again.text() == first.text() and again.end == first.end
    again.append("one more\n")
    assert again.text().endswith("line 000999\none more\n")
    assert again.end == first.end + len("one more\n")


def test_text_that_only_looks_like_a_marker_is_just_text() -> None:
    assert logtail.split("[… lots of earlier logs dropped …]\nhello\n")[0] == 0
    assert logtail.split("hello\n[… 1 kB of earlier logs dropped (5 characters) …]\n")[0] == 0


def test_the_limit_has_a_floor_the_marker_fits_under() -> None:
    tail = LogTail(10)
    tail.append("x" * 5000 + "\n")
    assert tail.limit == logtail.MIN_LIMIT and len(tail.text().encode()) <= logtail.MIN_LIMIT


def test_rendering_a_growing_log_costs_linear_time() -> None:
    """Many small appends, each followed by the copy that is cheap at that point: the copies
    add up to a small multiple of the text, not to its square."""
    tail = LogTail(1024 * 1024)
    copied = appended = 0
    for line in lines(0, 200_000, " " + "x" * 90):
        tail.append(line)
        appended += len(line)
        if tail.cheap_to_render():
            copied += len(tail.text())
    assert appended > 19_000_000
    assert copied < 6 * appended
