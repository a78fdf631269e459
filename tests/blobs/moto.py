"""A real S3-compatible server for the tests: moto's standalone server, in a subprocess.

Without moto installed the S3 cases are skipped with the reason, except under CI=true, where it
is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import boto3
import httpx
import pytest

from pier.blobs import Blobs, LocalBlobs
from pier.blobs.s3 import CONFIG, S3Blobs

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "pier-test",
    "AWS_SECRET_ACCESS_KEY": "pier-test-secret",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        """What a client of this server needs in its environment."""
        return {"AWS_ENDPOINT_URL": self.endpoint, **CREDENTIALS}

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=CREDENTIALS["AWS_REGION"],
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=CONFIG,
        )

    def new_bucket(self) -> str:
        name = "pier-" + uuid.uuid4().hex[:16]
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_moto(timeout: float = 30.0) -> MotoServer:
    """Start `moto_server` on a free port and wait until it answers (skip or fail without it)."""
    if importlib.util.find_spec("moto.server") is None or importlib.util.find_spec("flask") is None:
        message = 'moto\'s S3 server is not installed: pip install "moto[server]"'
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = MotoServer(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(server.endpoint, timeout=1.0)
            return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"moto_server did not start on port {port}")
        time.sleep(0.05)


def stored_keys(blobs: Blobs) -> set[str]:
    """Every key a file store holds, whichever kind it is."""
    if isinstance(blobs, LocalBlobs):
        if not blobs.root.exists():
            return set()
        return {p.relative_to(blobs.root).as_posix() for p in blobs.root.rglob("*") if p.is_file()}
    assert isinstance(blobs, S3Blobs)
    listed = blobs.client.list_objects_v2(Bucket=blobs.bucket, Prefix=blobs.prefix)
    return {item["Key"][len(blobs.prefix) :] for item in listed.get("Contents", [])}
