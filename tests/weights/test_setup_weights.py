"""A model whose cog.yaml sets COG_WEIGHTS to a URL gets the downloaded file in setup()."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pier.runner.weights import WEIGHTS_DIR_ENV
from pier.runner.worker import Worker
from tests.conftest import model_dir, running_pier
from tests.weights.fileserver import FileServer, file_server

__all__ = ["file_server"]

WEIGHTS = b"the weights " * 1000


def weighted_model(tmp_path: Path, name: str, url: str) -> Path:
    directory = model_dir(tmp_path / name, "setup_weights.py")
    (directory / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
        f"environment:\n  - COG_WEIGHTS={url}\n"
    )
    return directory


async def test_setup_gets_the_downloaded_weights(file_server: FileServer, tmp_path: Path) -> None:
    sha = hashlib.sha256(WEIGHTS).hexdigest()
    url = file_server.add("/weights.txt", WEIGHTS)
    good = weighted_model(tmp_path, "good", f"{url}#sha256={sha}")
    bad = weighted_model(tmp_path, "bad", f"{url}#sha256={'1' * 64}")
    async with running_pier(tmp_path) as pier:
        await pier.add_model("admin/weighted", good)
        await pier.add_model("admin/mismatched", bad)
        created = (await pier.create("admin/weighted", {})).json()
        done = await pier.wait_done(created["id"], timeout=60)
        assert done["status"] == "succeeded", done
        assert done["output"] == "Path:" + WEIGHTS.decode()
        assert "Weights: downloading" in done["logs"]  # the booting prediction saw the download
        cached = pier.services.settings.data_dir / "weights" / "sha256" / sha / "weights.txt"
        assert cached.read_bytes() == WEIGHTS

        failed = (await pier.create("admin/mismatched", {})).json()
        failed = await pier.wait_done(failed["id"], timeout=60)
        assert failed["status"] == "failed"
        assert f"have sha256 {sha}, but the URL's #sha256= says 1111" in failed["error"]
        assert "Setup failed" in failed["error"]
        assert failed["logs"].count("Weights: downloading") == 1  # shown once, as it came
    # The cached copy did not have the checksum the second model asks for, so it was fetched
    # again (the URL may serve new content now), checked, and refused.
    assert len(file_server.requests) == 2


TYPED = """
from cog import BasePredictor, File


class AsFile(BasePredictor):
    def setup(self, weights: File) -> None:
        self.weights = weights.read()

    def predict(self) -> str:
        return self.weights.decode()


class AsStr(BasePredictor):
    def setup(self, weights: str) -> None:
        self.weights = weights

    def predict(self) -> str:
        return self.weights
"""


async def test_the_declared_type_decides(file_server: FileServer, tmp_path: Path) -> None:
    url = file_server.add("/w.bin", b"file weights")
    (tmp_path / "predict.py").write_text(TYPED)
    env = {"COG_WEIGHTS": url, WEIGHTS_DIR_ENV: str(tmp_path / "cache")}
    as_file = Worker(tmp_path, "predict.py:AsFile", env=env)
    as_str = Worker(tmp_path, "predict.py:AsStr", env=env)
    try:
        assert (await as_file.predict("p1", {}, tmp_path / "out")).output == "file weights"
        assert "Weights: downloading" in as_file.setup_logs  # progress in the model's log
        assert (await as_str.predict("p2", {}, tmp_path / "out")).output == url  # as in Cog
    finally:
        await as_file.stop()
        await as_str.stop()
    assert len(file_server.requests) == 1
