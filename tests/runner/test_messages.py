"""Messages survive a JSON round trip; anything else is refused."""

from __future__ import annotations

import pytest

from pier.runner import messages as m

EXAMPLES = [
    m.Predict("p1", {"text": "hi", "n": [1, 2]}, "/tmp/out", {"id": "p1"}),
    m.Shutdown(),
    m.Ready(0.25),
    m.SetupFailed("boom", "Traceback..."),
    m.Log(None, "setup line\n"),
    m.Log("p1", "line\n"),
    m.OutputKind("p1", True),
    m.Output("p1", {m.FILE_KEY: "/tmp/out/a.png"}),
    m.Metric("p1", "tokens", 3),
    m.Progress("p1", 2, 10),
    m.Done("p1", "failed", "bad", "Traceback..."),
]


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda msg: type(msg).__name__)
def test_round_trip(msg: m.Message) -> None:
    line = msg.to_json()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert m.decode(line) == msg


def test_multiline_text_stays_on_one_line() -> None:
    assert m.decode(m.Log("p", "a\nb\r\n").to_json()) == m.Log("p", "a\nb\r\n")


@pytest.mark.parametrize("line", [b"[1]", b'{"type": "pickle"}', b"not json"])
def test_refuses_unknown_lines(line: bytes) -> None:
    with pytest.raises(ValueError):
        m.decode(line)
