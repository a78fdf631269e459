"""Model directories that ask for their own environments, and one uv cache for the session
(each package downloads once, so builds after the first take about a second)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import server_factory  # noqa: F401 - the real-server fixture


@pytest.fixture(scope="session", autouse=True)
def shared_uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    try:
        import uv

        uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        if os.environ.get("CI") == "true":
            pytest.fail("uv is not installed: pip install uv")
        pytest.skip("uv is not installed (pip install uv); skipping the environment tests")
    path = Path(os.environ.get("PIER_TEST_UV_CACHE") or tmp_path_factory.mktemp("uv-cache"))
    saved = os.environ.get("UV_CACHE_DIR")
    os.environ["UV_CACHE_DIR"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("UV_CACHE_DIR", None)
    else:
        os.environ["UV_CACHE_DIR"] = saved


# A predictor that reports which versions of its packages it sees, and where they live.
REPORTER = """
import importlib.metadata
import sys

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, package: str = "humanize") -> str:
        __import__(package.replace("-", "_"))
        return importlib.metadata.version(package) + " " + sys.prefix
"""


def write_model(directory: Path, build: dict[str, Any], code: str = REPORTER, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = {"build": build, "predict": "predict.py:Predictor"}
    (directory / "cog.yaml").write_text(yaml.safe_dump(config))
    (directory / "predict.py").write_text(textwrap.dedent(code))
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory
