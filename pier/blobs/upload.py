"""Unpacking a model directory that a client uploaded as a tar.gz (`pier push`).

Nothing in the archive may land outside the target directory: absolute names, `..`, links that
point outside it, device files and the like are refused (the standard library's "data" filter),
and so is an archive whose files add up to more than the limit, counted from the headers before
a byte is written. An archive whose only top-level entry is a directory holding cog.yaml (as
`tar czf model.tar.gz model/` makes) is unpacked from inside that directory.
"""

from __future__ import annotations

import shutil
import tarfile
import zlib
from pathlib import Path

MAX_ENTRIES = 200_000


class UploadError(Exception):
    """An archive that cannot be used: `status` is 413 (too large) or 422 (malformed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def unpack_model(archive: Path, target: Path, max_bytes: int) -> tuple[Path, int, int]:
    """Unpack `archive` into the empty directory `target`; (the model directory, files, bytes)."""
    files = total = entries = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                entries += 1
                if entries > MAX_ENTRIES:
                    raise UploadError(413, f"The archive has more than {MAX_ENTRIES} entries.")
                if member.isfile():
                    files += 1
                    total += member.size
                    if total > max_bytes:
                        raise UploadError(
                            413,
                            f"The archive unpacks to more than {max_bytes} bytes "
                            "(setting max_push_unpacked_bytes).",
                        )
                try:
                    tar.extract(member, target, filter="data")
                except tarfile.FilterError as exc:
                    raise UploadError(422, f"The archive is refused: {exc}.") from exc
    except UploadError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise UploadError(
            422, f"The body is not a readable tar.gz archive ({type(exc).__name__}: {exc})."
        ) from exc
    return _model_root(target), files, total


def _model_root(target: Path) -> Path:
    if (target / "cog.yaml").is_file():
        return target
    entries = list(target.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / "cog.yaml").is_file():
        return entries[0]
    raise UploadError(422, "The archive has no cog.yaml at its top (or in its one directory).")


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
