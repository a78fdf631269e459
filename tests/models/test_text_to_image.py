"""pier/text-to-image: files out, inputs honoured, progress logged, and prompts obeyed."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from tests.models.conftest import call, training_module

SLUG = "text-to-image"


@pytest.fixture(scope="module")
def predictor(load_predictor: Any) -> Any:
    return load_predictor(SLUG)


def test_defaults_give_one_png_at_512(predictor: Any) -> None:
    paths = call(predictor, seed=7)
    assert len(paths) == 1
    with Image.open(paths[0]) as img:
        assert (img.format, img.size, img.mode) == ("PNG", (512, 512), "RGB")


def test_size_count_and_format(predictor: Any) -> None:
    paths = call(
        predictor,
        seed=1,
        width=320,
        height=192,
        num_outputs=3,
        output_format="webp",
        num_inference_steps=3,
    )
    assert [p.suffix for p in paths] == [".webp"] * 3
    for path in paths:
        with Image.open(path) as img:
            assert (img.format, img.size) == ("WEBP", (320, 192))
    (jpg,) = call(
        predictor, seed=1, output_format="jpg", num_inference_steps=2, width=64, height=1280
    )
    with Image.open(jpg) as img:
        assert (img.format, img.size) == ("JPEG", (64, 1280))


def test_seed_reproduces_and_varies(predictor: Any) -> None:
    a = predictor.generate(["a green square"] * 2, "", 5, 4.0, 11)
    b = predictor.generate(["a green square"] * 2, "", 5, 4.0, 11)
    c = predictor.generate(["a green square"] * 2, "", 5, 4.0, 12)
    assert a.equal(b)
    assert not a.equal(c)
    assert not a[0].equal(a[1]), "two outputs of one call should differ"


def test_logs_seed_and_a_progress_bar_per_step(predictor: Any, capfd: Any) -> None:
    call(predictor, seed=3, num_inference_steps=6, width=64, height=64)
    out, err = capfd.readouterr()
    assert "Using seed: 3" in out
    assert "6/6" in err and "100%" in err, err


def test_negative_prompt_steers_away(predictor: Any) -> None:
    judge = training_module("classifier")
    scenes = training_module("scenes")
    prompts = ["a circle"] * 16
    plain = predictor.generate(prompts, "", 20, 4.0, 5)
    steered = predictor.generate(prompts, "red", 20, 4.0, 5)
    red = list(scenes.COLOURS).index("red")

    def reds(samples: Any) -> int:
        images = samples.permute(0, 3, 1, 2).float() / 127.5 - 1
        return int((judge.classify(judge.load(), images)[1] == red).sum())

    assert reds(steered) == 0
    assert reds(steered) <= reds(plain)


@pytest.mark.slow
def test_classifier_recognises_the_prompt_in_80_percent(predictor: Any) -> None:
    evaluate = training_module("evaluate_diffusion")
    result = evaluate.quality(predictor, n=100, seed=0)
    assert result["accuracy"] >= 0.8, result["misses"]
