"""Typed messages between the Worker (parent) and the model process (child).

One JSON object per line over a socketpair, with a "type" tag; never pickle. A process that
runs one prediction at a time is canceled by SIGUSR1, which interrupts a running predict at
once; one that runs several at once (Cog's concurrency.max) gets a Cancel naming the one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pier.jobs import Status

# An output file is sent as {FILE_KEY: "<absolute path inside the prediction's output_dir>"}.
FILE_KEY = "__pier_file__"


_encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode


@dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[str, ...]] = ()  # set for each kind below, in declaration order

    def to_json(self) -> bytes:
        body: dict[str, Any] = {"type": self.TYPE}
        for name in self.FIELDS:
            body[name] = getattr(self, name)
        return (_encode(body) + "\n").encode()  # ASCII: non-ASCII text is \u-escaped

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Message:
        return cls(**{name: body[name] for name in cls.FIELDS if name in body})


# -- parent → child -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Predict(Message):
    TYPE: ClassVar[str] = "predict"
    id: str
    inputs: dict[str, Any]
    output_dir: str
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PredictBatch(Message):
    """Run several predictions in one call of the predictor's `method`. Each item holds a
    Predict's fields (id, inputs, output_dir, context); logs of the call carry the batch's `id`."""

    TYPE: ClassVar[str] = "predict_batch"
    id: str
    method: str
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class Cancel(Message):
    TYPE: ClassVar[str] = "cancel"
    id: str  # a prediction's id, or a batch's


@dataclass(frozen=True)
class Shutdown(Message):
    TYPE: ClassVar[str] = "shutdown"


# -- child → parent -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Ready(Message):
    TYPE: ClassVar[str] = "ready"
    setup_time: float


@dataclass(frozen=True)
class SetupFailed(Message):
    TYPE: ClassVar[str] = "setup_failed"
    error: str
    traceback: str = ""


@dataclass(frozen=True)
class Log(Message):
    TYPE: ClassVar[str] = "log"
    id: str | None
    text: str


@dataclass(frozen=True)
class OutputKind(Message):
    TYPE: ClassVar[str] = "output_kind"
    id: str
    iterator: bool


@dataclass(frozen=True)
class Output(Message):
    TYPE: ClassVar[str] = "output"
    id: str
    value: Any


@dataclass(frozen=True)
class Metric(Message):
    TYPE: ClassVar[str] = "metric"
    id: str
    name: str
    value: float | int | str | list[float | int | str]


@dataclass(frozen=True)
class Progress(Message):
    TYPE: ClassVar[str] = "progress"
    id: str
    current: int
    total: int


@dataclass(frozen=True)
class Done(Message):
    TYPE: ClassVar[str] = "done"
    id: str
    status: Status  # a terminal one
    error: str | None = None
    traceback: str | None = None

    def __post_init__(self) -> None:
        status = Status(self.status)  # decoding gives the string; unknown ones are ValueError
        if not status.terminal:
            raise ValueError(f"a done message needs a terminal status, not {status!r}")
        object.__setattr__(self, "status", status)


KINDS: dict[str, type[Message]] = {}
for _kind in (
    Predict,
    PredictBatch,
    Cancel,
    Shutdown,
    Ready,
    SetupFailed,
    Log,
    OutputKind,
    Output,
    Metric,
    Progress,
    Done,
):
    _kind.FIELDS = tuple(f.name for f in dataclasses.fields(_kind))
    KINDS[_kind.TYPE] = _kind


def decode(line: bytes | str) -> Message:
    """Parse one line; raises ValueError for anything that is not a known message."""
    return from_body(_decode(line.decode() if isinstance(line, bytes) else line))


def from_body(body: Any) -> Message:
    """The message a parsed line holds (the server parses lines with its own, faster JSON);
    ValueError for anything that is not a known message."""
    if not isinstance(body, dict) or body.get("type") not in KINDS:
        raise ValueError(f"not a runner message: {str(body)[:200]}")
    return KINDS[body["type"]].from_json(body)
