"""What a model process needs to fetch its weights (pier/runner/weights.py does the fetching).

The model process downloads a `COG_WEIGHTS` URL itself, into DATA_DIR/weights, up to the
max_weights_bytes setting. A URL of one of Pier's own files in the API form
(``/v1/files/<id>``, which needs a token) is turned into that file's public link
(``/files/<token>/<name>``) on the same server first, when the file belongs to the account that
owns the model; the model process never holds a token.

A version a training made carries its weights in the file store (`weights`, a key under
``weights/{sha256}/{name}``). The worker copies them into the same cache the model process uses
(``DATA_DIR/weights/sha256/<hex>/<name>``), checked against their sha256, and COG_WEIGHTS names
that file: any worker that can read the file store gets them, with no address to reach.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pier.blobs import Blobs
from pier.runner.errors import SetupFailed
from pier.runner.weights import MAX_BYTES_ENV, WEIGHTS_DIR_ENV, is_url
from pier.settings import Settings
from pier.store import Store


async def weights_env(
    store: Store, settings: Settings, version: Mapping[str, Any], blobs: Blobs
) -> dict[str, str]:
    """Variables for the model process of `version`: the weights cache, its limit, and
    COG_WEIGHTS when the version has weights of its own (a training made it) or names a Pier
    file by its API URL."""
    env = {
        WEIGHTS_DIR_ENV: str(settings.data_dir / "weights"),
        MAX_BYTES_ENV: str(settings.max_weights_bytes),
    }
    if version.get("weights"):
        cache = settings.data_dir / "weights"
        local = await asyncio.to_thread(_cached, blobs, str(version["weights"]), cache)
        env["COG_WEIGHTS"] = str(local)
        return env
    url = str((version.get("environment") or {}).get("COG_WEIGHTS") or "")
    if not is_url(url):
        return env
    parts = urllib.parse.urlsplit(url)
    path = [urllib.parse.unquote(p) for p in parts.path.split("/") if p]
    if path[:2] != ["v1", "files"] or len(path) not in (3, 4):
        return env
    model = await store.get_model_by_id(str(version["model_id"]))
    row = await store.get_file(path[2], model["account_id"]) if model is not None else None
    if row is None:
        raise SetupFailed(
            f"COG_WEIGHTS names file {path[2]}, which does not exist, has expired or does not "
            "belong to the model's owner",
            "",
        )
    public = f"/files/{row['public_token']}/{urllib.parse.quote(row['name'])}"
    env["COG_WEIGHTS"] = urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, public, "", parts.fragment)
    )
    return env


def _cached(blobs: Blobs, key: str, cache: Path) -> Path:
    """The local copy of weights stored under `key` (weights/{sha256}/{name}), fetched once."""
    _, sha256, name = key.split("/", 2)
    target = cache / "sha256" / sha256 / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    os.close(handle)
    try:
        blobs.get_file(key, Path(temporary))
        digest = hashlib.sha256()
        with open(temporary, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            raise SetupFailed(f"The weights {key} in the file store do not match their sha256", "")
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target
