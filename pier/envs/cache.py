"""Keeping the environment cache under its size budget: least recently used goes first.

Every environment's size is measured once, when it is built (manifest.json); its marker's
mtime is its last use. One that a model process holds (a shared flock on `<key>.lock`) is
never removed; removal moves the directory aside first, so nothing sees half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

READY = ".pier-ok"


def tree_bytes(path: Path) -> int:
    """Bytes of the files under `path` (a file linked from uv's cache counts in full)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _entries(root: Path) -> list[tuple[float, int, Path]]:
    entries = []
    for path in root.iterdir():
        marker = path / READY
        if path.name.startswith(".") or not marker.is_file():
            continue
        try:
            size = int(json.loads((path / "manifest.json").read_text())["bytes"])
            entries.append((marker.stat().st_mtime, size, path))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(entries)


def evict(root: Path, budget: int, keep: str) -> list[str]:
    """Remove environments, oldest use first, until the rest fit in `budget` bytes; returns
    the keys removed. `keep` (the one just acquired) and those in use stay."""
    entries = _entries(root)
    total = sum(size for _, size, _ in entries)
    removed: list[str] = []
    for _, size, path in entries:
        if total <= budget:
            break
        if path.name == keep:
            continue
        fd = os.open(root / f"{path.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # in use, or being built
            aside = root / f".removing-{path.name}-{uuid.uuid4().hex[:8]}"
            try:
                os.rename(path, aside)
            except OSError:
                continue
        finally:
            os.close(fd)
        shutil.rmtree(aside, ignore_errors=True)
        total -= size
        removed.append(path.name)
        log.info("removed the environment %s (%d bytes) to keep the cache in budget", path, size)
    return removed
