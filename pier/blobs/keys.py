"""Every key Pier stores bytes under, in one place (relative to the file store's root).

{file id}/{name}              an upload, a prediction output or a large data: input
versions/{version id}.tar.gz  a model version's directory as one archive; the version id is the
                              sha256 content hash of the directory (pier/blobs/archive.py)
weights/{sha256}/{name}       the weights a training made, by the sha256 of their bytes; the
                              versions made from them hand them to setup(weights)
"""

from __future__ import annotations

from pathlib import PurePosixPath

VERSIONS = "versions"
WEIGHTS = "weights"


def file_key(file_id: str, name: str) -> str:
    return f"{file_id}/{name}"


def version_key(version_id: str) -> str:
    return f"{VERSIONS}/{version_id}.tar.gz"


def weights_key(sha256: str, name: str) -> str:
    return f"{WEIGHTS}/{sha256}/{name}"


def key_of(stored: str) -> str:
    """The key of a file row's `path`. Rows written before the file store held an absolute path
    `<data dir>/files/{file id}/{name}`, whose last two parts are the key under the same root."""
    path = PurePosixPath(stored)
    return "/".join(path.parts[-2:]) if path.is_absolute() else stored
