"""pier/text-to-video: an H.264 mp4 of the asked size, length and rate, made of diffusion frames."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.models.conftest import call, import_predict, require

SLUG = "text-to-video"


@pytest.fixture(scope="module")
def predictor(load_predictor: Any) -> Any:
    return load_predictor(SLUG)


def probe(path: Path) -> tuple[str, np.ndarray]:
    """ffmpeg's description of the file, and its frames decoded to RGB."""
    ffmpeg = require("imageio_ffmpeg").get_ffmpeg_exe()
    command = [ffmpeg, "-hide_banner", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    done = subprocess.run(command, capture_output=True, timeout=60, check=True)
    info = done.stderr.decode(errors="replace")
    width, height = (int(v) for v in re.search(r", (\d+)x(\d+)", info).groups())  # type: ignore[union-attr]
    frames = np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3)
    return info, frames


def test_writes_h264_mp4_with_the_asked_shape(predictor: Any) -> None:
    path = call(predictor, seed=2, width=250, height=120, video_length=9, infer_steps=4, fps=12)
    assert path.suffix == ".mp4"
    info, frames = probe(path)
    assert "Video: h264" in info and "yuv420p" in info
    assert re.search(r"\b12 fps\b", info), info
    assert frames.shape == (9, 120, 250, 3)  # odd sizes are rounded down to even


def test_frames_hold_each_scene_and_morph_between_them(predictor: Any) -> None:
    frames = predictor.frames("a red circle then a blue square", 24, 8, 6.0, 4).astype(float)
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    start_to_end = np.abs(frames[-1] - frames[0]).mean()
    assert steps[:3].max() < 2 and steps[-3:].max() < 2, steps  # the scenes are held
    assert (steps > 1).sum() >= 8, steps  # the change is spread over many frames...
    assert (steps > start_to_end / 4).sum() <= 1, steps  # ...with at most one quick switch
    red, blue = frames[0].reshape(-1, 3), frames[-1].reshape(-1, 3)
    assert (red[:, 0] - red[:, 2]).max() > 100  # some strongly red pixels at the start
    assert (blue[:, 2] - blue[:, 0]).max() > 100  # and strongly blue ones at the end


def test_one_frame_and_seed_reproducibility(predictor: Any) -> None:
    a = predictor.frames("a white ring", 1, 3, 6.0, 9)
    b = predictor.frames("a white ring", 1, 3, 6.0, 9)
    assert a.shape == (1, 32, 32, 3)
    assert np.array_equal(a, b)


def test_walks_are_unit_variance_and_hold_the_scenes() -> None:
    torch = require("torch")
    module = import_predict(SLUG)
    noise = module.noise_walk(50, 32, seed=0)
    assert noise.shape == (50, 3, 32, 32)
    assert abs(float(noise.std()) - 1) < 0.05
    scenes = torch.eye(3, 4)
    before, after, weight = module.scene_walk(scenes, 31)
    assert torch.equal(before[0], scenes[0]) and weight[0] == 0
    assert torch.equal(after[-1], scenes[2]) and weight[-1] == 1
    middle = (1 - weight[15]) * before[15] + weight[15] * after[15]
    assert torch.equal(middle, scenes[1])  # the middle scene is held
    assert bool((weight[:8].diff() >= 0).all())
    single, none, zeros = module.scene_walk(scenes[:1], 5)
    assert none is None and torch.equal(single, scenes[:1].expand(5, -1)) and not zeros.any()
