"""Every training script still runs (a few steps) and is reproducible."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from tests.models.conftest import TRAINING, require, training_module


def run_script(name: str, *args: str) -> str:
    require("torch")
    done = subprocess.run(
        [sys.executable, str(TRAINING / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_diffusion_training_runs_and_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        log = run_script("train_diffusion.py", "--steps", "2", "--batch", "4", "--out", str(out))
        assert "step     1" in log
    first = (a / "denoiser.safetensors").read_bytes()
    assert first == (b / "denoiser.safetensors").read_bytes()
    assert 1_000_000 < len(first) < 8_000_000


def test_classifier_training_runs(tmp_path: Path) -> None:
    out = tmp_path / "judge.safetensors"
    log = run_script(
        "classifier.py", "--steps", "2", "--batch", "8", "--out", str(out), "--eval", "50"
    )
    assert out.is_file() and "held-out accuracy" in log


def test_llm_training_runs_and_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        log = run_script(
            "train_llm.py", "--steps", "2", "--batch", "4", "--eval-windows", "8", "--out", str(out)
        )
        assert "held-out loss" in log
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    common = training_module("common")
    gpt = common.load_module(common.BUILTIN / "tiny-llm" / "gpt.py", "pier_training_gpt")
    _, meta = gpt.load(a / "model.safetensors", require("torch").device("cpu"))
    assert float(meta["held_out_loss"]) > 0


def test_corpus_builder_reads_docstrings_without_importing(tmp_path: Path) -> None:
    build_corpus = training_module("build_corpus")
    lib = tmp_path / "lib"
    (lib / "pkg").mkdir(parents=True)
    (lib / "test").mkdir()
    (lib / "pkg" / "__init__.py").write_text(
        '"""A package that must never be imported by the corpus builder."""\nraise SystemExit\n'
    )
    (lib / "pkg" / "mod.py").write_text(
        "class Thing:\n"
        '    """A thing that holds other things for later use."""\n'
        "    def get(self, key, default=None):\n"
        '        """Return the value stored under key, or default when it is missing."""\n'
    )
    (lib / "test" / "test_x.py").write_text('"""Tests are left out of the corpus, always."""\n')
    text, count = build_corpus.build(lib)
    assert count == 3
    assert "pkg.mod.Thing.get(self, key, default=None)\nReturn the value" in text
    assert "Tests are left out" not in text


def test_shipped_corpus_is_ascii_docstrings() -> None:
    build_corpus = training_module("build_corpus")
    with gzip.open(build_corpus.CORPUS, "rt", encoding="ascii") as f:
        text = f.read()
    assert len(text) > 1_000_000
    assert "json.dumps(" in text
