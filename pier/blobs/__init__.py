"""The file store seam: bytes under keys, in a local directory or an S3-compatible bucket."""

from __future__ import annotations

from pathlib import Path

from pier.blobs.base import BlobNotFound, Blobs, BlobsUnavailable, Chunks
from pier.blobs.local import LocalBlobs

__all__ = ["BlobNotFound", "Blobs", "BlobsUnavailable", "Chunks", "LocalBlobs", "open_blobs"]


def open_blobs(files: str, data_dir: Path) -> Blobs:
    """The store the `files` setting names: empty for DATA_DIR/files, a directory, or
    s3://bucket/prefix."""
    if not files:
        return LocalBlobs(data_dir / "files")
    if files.startswith("s3://"):
        from pier.blobs.s3 import S3Blobs  # boto3 is imported only when it is used

        return S3Blobs.from_url(files)
    if "://" in files:
        raise ValueError(f"files must be empty, a directory or s3://bucket/prefix, not {files!r}")
    return LocalBlobs(Path(files).expanduser())
