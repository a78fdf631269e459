"""The directory a model environment imports Pier's runner from.

It holds a copy of the packages the model process uses (the runner, the SDK, the job record and
the `cog` shim), which import only the standard library, and nothing else: the model never sees
Pier's own dependencies. The copy is named by the hash of its files, so an upgraded Pier gets a
fresh one and environments never need rebuilding for it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pier

PACKAGES = ("runner", "sdk", "jobs", "_shim")


def _sources() -> list[Path]:
    top = Path(pier.__file__).resolve().parent
    files = [top / "__init__.py"]
    for package in PACKAGES:
        files += sorted((top / package).rglob("*.py"))
    return files


@functools.cache
def runner_dir(root: Path) -> Path:
    """A directory under `root` whose `pier` package is the runner's copy (made once)."""
    top = Path(pier.__file__).resolve().parent
    files = _sources()
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(top).as_posix().encode() + b"\0" + file.read_bytes())
    target = root / f".runner-{digest.hexdigest()[:16]}"
    if (target / "pier" / "__init__.py").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".runner-staging-", dir=root))
    for file in files:
        copy = staging / "pier" / file.relative_to(top)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, copy)
    try:
        os.rename(staging, target)
    except OSError:  # another process published the same copy first
        shutil.rmtree(staging, ignore_errors=True)
    return target
