"""What a training that succeeded leaves behind: a new version of its destination model.

train() returns its weights as a file (a `Path`, or `TrainingOutput(weights=Path)`), which the
output sink has already stored as an output file of the training. Here those bytes are copied
to a key of their own in the file store (``weights/{sha256}/{name}``, so removing the training's
files later never takes a version's weights with them), and the new version is described: the
base version's code and environment, the new weights, and where it came from. Its id is the
sha256 of the base version's id and the weights' sha256, so the same training result is the
same version.

Order, so that a crash can never leave a succeeded training without its version: the weights
are copied first (a crash here leaves at most an unused copy, and the training fails later when
its lease runs out); then the version, the destination's latest version and the training's
final record are written in one transaction (`Dispatcher.finish`), all or nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pier.blobs import Blobs
from pier.blobs.archive import code_version
from pier.blobs.keys import key_of, weights_key
from pier.dispatch.live import Live
from pier.files import public_url
from pier.store import Row
from pier.store.tables import versions
from pier.util import utcnow

if TYPE_CHECKING:
    from pier.dispatch.dispatcher import Dispatcher

NO_WEIGHTS = (
    "train() must return the new weights as a file: a Path, or an object whose `weights` is a "
    "Path (such as TrainingOutput(weights=Path(...)))"
)
# What a trained version takes over from its base version unchanged: everything but these.
OWN = frozenset({"model_id", "id", "created_at", "source", "weights"})


class TrainingError(Exception):
    """A training whose result cannot become a version; the message says why."""


def _weights_file(output: Any, live: Live, base_url: str) -> Row | None:
    """The output file train() returned as its weights."""
    url = output.get("weights") if isinstance(output, dict) else output
    if not isinstance(url, str):
        return None
    return next((row for row in live.file_rows if public_url(base_url, row) == url), None)


def _copy(blobs: Blobs, source: str, target: str, scratch: Path) -> None:
    """Copy bytes within the file store (unless the target, named by content, is there)."""
    if blobs.exists(target):
        return
    scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=scratch, prefix="weights-")
    os.close(handle)
    try:
        blobs.get_file(source, Path(name))
        blobs.put_file(target, Path(name))
    finally:
        Path(name).unlink(missing_ok=True)


def trained_version_id(base_version: str, weights_sha256: str) -> str:
    return hashlib.sha256((base_version + weights_sha256).encode()).hexdigest()


async def new_version(dispatcher: Dispatcher, live: Live, output: Any) -> tuple[Any, Row]:
    """The training's output as the API shows it ({"version": "owner/name:<id>", "weights":
    <url>}) and the version row to write with its final record. Raises TrainingError."""
    weights = _weights_file(output, live, dispatcher.base_url)
    if weights is None:
        raise TrainingError(NO_WEIGHTS)
    destination = await dispatcher.store.get_model_by_id(str(live.row["destination"]))
    if destination is None:
        raise TrainingError("The destination model of this training no longer exists.")
    key = weights_key(weights["sha256"], weights["name"])
    blobs = dispatcher.files.blobs
    await asyncio.to_thread(_copy, blobs, key_of(weights["path"]), key, dispatcher.scratch_root)
    base = live.version
    version_id = trained_version_id(str(base["id"]), weights["sha256"])
    row: Row = {name: base[name] for name in versions.c.keys() if name not in OWN and name in base}
    row.update(
        model_id=destination["id"],
        id=version_id,
        created_at=utcnow(),
        weights=key,
        source={
            "kind": "training",
            "training_id": live.id,
            "base_version": base["id"],
            "input": live.row["input"],
            "code_version": code_version(base),
        },
    )
    shown = {
        "version": f"{destination['owner']}/{destination['name']}:{version_id}",
        "weights": public_url(dispatcher.base_url, weights),
    }
    return shown, row
