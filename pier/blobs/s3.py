"""The file store in an S3-compatible bucket (AWS S3, MinIO, R2, …) through boto3.

The endpoint, region and credentials come from the standard variables boto3 reads
(`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …) and `AWS_REGION`.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import boto3.exceptions
import botocore.config
import botocore.exceptions

from pier.blobs.base import CHUNK, BlobNotFound, Blobs, BlobsUnavailable, Chunks

MISSING = {"NoSuchKey", "404", "NotFound"}

CONFIG = botocore.config.Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 2, "mode": "standard"},  # one retry: an outage answers soon
    max_pool_connections=32,
    # Checksums only where S3 requires them: several S3-compatible stores refuse the newer
    # default trailing checksums.
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
)


class _BodyChunks(Chunks):
    def __init__(self, blobs: S3Blobs, key: str, body: Any) -> None:
        self.blobs = blobs
        self.key = key
        self.body = body

    def __next__(self) -> bytes:
        with self.blobs.errors(self.key):
            chunk: bytes = self.body.read(CHUNK)
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self.body.close()


class S3Blobs(Blobs):
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"

    @classmethod
    def from_url(cls, url: str, env: Mapping[str, str] | None = None) -> S3Blobs:
        """`s3://bucket/prefix`; the client is configured from the environment."""
        env = os.environ if env is None else env
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"files must look like s3://bucket/prefix, not {url!r}")
        client = boto3.session.Session().client(
            "s3", region_name=env.get("AWS_REGION") or None, config=CONFIG
        )
        return cls(client, parsed.netloc, parsed.path)

    def _key(self, key: str) -> str:
        return self.prefix + key

    @contextlib.contextmanager
    def errors(self, key: str) -> Iterator[None]:
        """boto3's errors as the file store's: BlobNotFound, or BlobsUnavailable with the reason."""
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in MISSING:
                raise BlobNotFound(key) from exc
            reason = f"{code}: {error.get('Message') or exc}"
            raise BlobsUnavailable(f"The file store {self.location} refused: {reason}") from exc
        except (botocore.exceptions.BotoCoreError, boto3.exceptions.Boto3Error) as exc:
            raise BlobsUnavailable(f"The file store {self.location} is unreachable: {exc}") from exc

    def put_file(self, key: str, source: Path) -> None:
        with self.errors(key):
            self.client.upload_file(str(source), self.bucket, self._key(key))
        source.unlink()

    def put_bytes(self, key: str, data: bytes) -> None:
        with self.errors(key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Chunks:
        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        with self.errors(key):
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key), **extra)
        return _BodyChunks(self, key, response["Body"])

    def get_file(self, key: str, target: Path) -> None:
        with self.errors(key):
            self.client.download_file(self.bucket, self._key(key), str(target))

    def size(self, key: str) -> int | None:
        try:
            with self.errors(key):
                head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except BlobNotFound:
            return None
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        with self.errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
