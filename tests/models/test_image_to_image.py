"""pier/image-to-image: an uploaded file in, the prompt applied, the upload's size kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.models.conftest import call, training_module

SLUG = "image-to-image"


@pytest.fixture(scope="module")
def predictor(load_predictor: Any) -> Any:
    return load_predictor(SLUG)


@pytest.fixture
def red_circle(tmp_path: Path) -> Path:
    """A 300x200 red disc on white, the kind of picture a user might upload."""
    img = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(img).ellipse([90, 40, 210, 160], fill=(220, 40, 40))
    path = tmp_path / "circle.png"
    img.save(path)
    return path


def colour_of(sample: np.ndarray) -> str:
    judge, scenes = training_module("classifier"), training_module("scenes")
    torch = training_module("common").torch
    images = torch.from_numpy(sample.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    return list(scenes.COLOURS)[int(judge.classify(judge.load(), images)[1][0])]


def test_output_keeps_size_and_follows_the_prompt(predictor: Any, red_circle: Path) -> None:
    path = call(predictor, image=red_circle, prompt="a blue circle on a white background", seed=4)
    with Image.open(path) as img:
        assert (img.format, img.size) == ("PNG", (300, 200))
        small = np.asarray(img.convert("RGB").resize((32, 32), Image.Resampling.BOX))
    assert colour_of(small) == "blue"
    assert small[0, 0].min() > 180, "the white background should survive the edit"


def test_strength_zero_keeps_the_image(predictor: Any, red_circle: Path) -> None:
    with Image.open(red_circle) as img:
        source = img.convert("RGB")
    kept = predictor.edit(source, "a green star", "", 0.0, 25, 4.0, 0)
    original = np.asarray(source.resize((32, 32), Image.Resampling.BOX)).astype(int)
    assert np.abs(kept.astype(int) - original).max() <= 1


def test_transparent_and_large_uploads(predictor: Any, tmp_path: Path) -> None:
    upload = tmp_path / "big.webp"
    Image.new("RGBA", (2560, 1000), (0, 0, 0, 0)).save(upload)
    path = call(
        predictor,
        image=upload,
        prompt="a pink heart",
        seed=1,
        num_inference_steps=4,
        output_format="jpg",
    )
    with Image.open(path) as img:
        assert (img.format, img.size) == ("JPEG", (1280, 500))


def test_a_file_that_is_not_an_image_is_a_clear_error(predictor: Any, tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text("not a picture")
    with pytest.raises(ValueError, match="notes.txt is not an image"):
        call(predictor, image=upload, seed=1)
