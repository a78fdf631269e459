"""pier/text-to-image's train(): a zip of arrow pictures and the word "arrow" make weights with
which "a arrow" draws arrows, while the base model ignores the word and draws anything.

The judge is a nearest-centroid classifier over silhouettes (each pixel's distance from the
picture's background colour, scaled to [0, 1] and pooled to 16x16): one centroid for the
uploaded arrows and one for each of the 18 objects the base model knows, rendered by
training/scenes.py. A sample is an arrow when the arrow centroid is its nearest.

Measured (seed 1, the default 100 steps, 32 samples at 15 steps): the trained weights draw an
arrow in 29 of 32 samples, the base in 0 of 32; prompts for known objects stay right in 34 of
36 samples by the independent classifier (training/classifier.py; 35 for the base) and 2 of
36 look like arrows. The test asserts at least 75%, at most 15%, at least 80% and at most 10%.
"""

from __future__ import annotations

import asyncio
import base64
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.conftest import running_pier
from tests.models.conftest import BUILTIN, defaults, import_predict, require, training_module

SLUG = "text-to-image"
WORD = "arrow"
SAMPLES = 32


def arrow(rng: np.random.Generator, size: int = 96) -> Image.Image:
    """A right-pointing arrow of random colour, size, place and tilt on black or white."""
    background = (15, 15, 20) if rng.random() < 0.7 else (240, 240, 240)
    img = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(img)
    s = rng.uniform(0.55, 0.8) * size
    cx, cy = (size / 2 + rng.uniform(-0.08, 0.08) * size for _ in range(2))
    colour = tuple(int(v) for v in rng.integers(60, 256, 3))
    w = s * 0.16
    draw.rectangle([cx - s / 2, cy - w, cx + s * 0.05, cy + w], fill=colour)
    head = [(cx + s * 0.05, cy - s * 0.36), (cx + s / 2, cy), (cx + s * 0.05, cy + s * 0.36)]
    draw.polygon(head, fill=colour)
    angle = float(rng.uniform(-10, 10))
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=background)


def arrows_zip(path: Path, n: int = 24, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(n):
            buf = io.BytesIO()
            arrow(rng).save(buf, "PNG")
            archive.writestr(f"arrows/{i:02d}.png", buf.getvalue())
        archive.writestr("arrows/notes.txt", "not a picture")
    return path


def silhouettes(images: Any) -> Any:
    """(n, 256) unit vectors: distance from the background colour, pooled to 16x16."""
    torch = require("torch")
    x = torch.as_tensor(images).float()
    if x.shape[-1] == 3:  # NHWC uint8 samples
        x = x.permute(0, 3, 1, 2) / 127.5 - 1
    ring = torch.cat([x[:, :, :2], x[:, :, -2:], x[:, :, :, :2].transpose(2, 3)], 2)
    background = ring.flatten(2).median(2).values[:, :, None, None]
    distance = (x - background).norm(dim=1, keepdim=True)
    distance = distance / distance.flatten(1).max(1).values.clamp_min(0.1)[:, None, None, None]
    pooled = torch.nn.functional.avg_pool2d(distance, 2).flatten(1)
    return torch.nn.functional.normalize(pooled, dim=1)


class Judge:
    """Nearest centroid: index 0 is the new thing, 1.. the objects the base model knows."""

    def __init__(self, pictures: np.ndarray) -> None:
        torch = require("torch")
        scenes = training_module("scenes")
        rng = np.random.default_rng(0)
        centroids = [silhouettes(torch.from_numpy(pictures)).mean(0)]
        for obj in range(len(scenes.OBJECTS)):
            renders = [
                scenes.render(scenes.Scene(obj, int(rng.integers(9)), 0), rng, jitter=scenes.TIGHT)
                for _ in range(20)
            ]
            centroids.append(silhouettes(np.stack(renders)).mean(0))
        self.centroids = torch.nn.functional.normalize(torch.stack(centroids), dim=1)

    def new_share(self, samples: Any) -> float:
        nearest = (silhouettes(samples) @ self.centroids.T).argmax(1)
        return float((nearest == 0).float().mean())


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require("torch")
    train = import_trainer()
    upload = arrows_zip(tmp_path_factory.mktemp("upload") / "arrows.zip")
    trainer = train.Trainer()
    trainer.setup()
    out = trainer.train(**given(trainer, images=upload, word=WORD, seed=1))
    return {"weights": out.weights, "upload": upload, "module": train}


def import_trainer() -> Any:
    """train.py of the model, imported the way the runner would (predict.py first, so both
    share the model directory's modules)."""
    import importlib.util
    import sys

    saved = sys.modules.get("predict")
    sys.modules["predict"] = import_predict(SLUG)
    try:
        path = BUILTIN / SLUG / "train.py"
        spec = importlib.util.spec_from_file_location("train_text_to_image", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules["predict"]
        else:
            sys.modules["predict"] = saved
    return module


def given(trainer: Any, **inputs: Any) -> dict[str, Any]:
    """train()'s inputs as the runner passes them: the defaults, then these."""
    return {**defaults(trainer, "train"), "seed": 2, **inputs}


def predictor(weights: Any = None) -> Any:
    p = import_predict(SLUG).Predictor()
    p.setup(weights=weights)
    return p


@pytest.mark.slow
def test_trained_weights_draw_the_new_word_and_the_base_does_not(
    trained: dict[str, Any], load_predictor: Any
) -> None:
    torch = require("torch")
    weights = trained["weights"]
    assert weights.suffix == ".safetensors" and weights.stat().st_size < 8_000_000
    judge = Judge(trained["module"].load_pictures(trained["upload"]))
    base, tuned = load_predictor(SLUG), predictor(weights)
    prompts = [f"a {WORD}"] * SAMPLES
    base_share = judge.new_share(base.generate(prompts, "", 15, 4.0, 123))
    tuned_share = judge.new_share(tuned.generate(prompts, "", 15, 4.0, 123))
    assert tuned_share >= 0.75, (tuned_share, base_share)
    assert base_share <= 0.15, (tuned_share, base_share)

    # What the model knew before is still there: shapes and digits in their colours.
    scenes, classifier = training_module("scenes"), training_module("classifier")
    targets = [(i % len(scenes.OBJECTS), i % len(scenes.COLOURS)) for i in range(36)]
    known = tuned.generate([scenes.prompt_for(o, c) for o, c in targets], "", 15, 4.0, 5)
    objects, colours = classifier.classify(
        classifier.load(), known.permute(0, 3, 1, 2).float() / 127.5 - 1
    )
    want = torch.tensor(targets)
    right = ((objects == want[:, 0]) & (colours == want[:, 1])).float().mean()
    assert float(right) >= 0.8
    assert judge.new_share(known) <= 0.1


def test_the_word_is_ignored_by_the_base_and_known_after_training(
    trained: dict[str, Any], load_predictor: Any
) -> None:
    weights = trained["weights"]
    assert load_predictor(SLUG).diffusion.ignored_words([f"a {WORD}"]) == [WORD]
    for handed in (weights, str(weights), f"file://{weights}"):  # a Path or a URL string
        tuned = predictor(handed)
        assert tuned.diffusion.ignored_words([f"a green {WORD} on black"]) == []
        assert tuned.diffusion.cfg.vocab[-1] == WORD


def test_a_second_training_starts_from_the_trained_weights(trained: dict[str, Any]) -> None:
    train = trained["module"]
    trainer = train.Trainer()
    trainer.setup(weights=str(trained["weights"]))
    out = trainer.train(**given(trainer, images=trained["upload"], word="pointer", steps=10))
    vocab = predictor(out.weights).diffusion.cfg.vocab
    assert vocab[-2:] == (WORD, "pointer")
    with pytest.raises(ValueError, match="already reads 'arrow'"):
        trainer.train(**given(trainer, images=trained["upload"], word="Arrow", steps=10))


def test_bad_uploads_and_words_are_refused(trained: dict[str, Any], tmp_path: Path) -> None:
    train = trained["module"]
    trainer = train.Trainer()
    trainer.setup()
    cases = {
        "two words": ("one word of letters", trained["upload"]),
        "star": ("already reads 'star'", trained["upload"]),
        "blob": ("holds no picture", tmp_path / "empty.zip"),
    }
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("readme.txt", "no pictures here")
    for word, (message, upload) in cases.items():
        with pytest.raises(ValueError, match=message):
            trainer.train(**given(trainer, images=upload, word=word, steps=10))
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(ValueError):
        trainer.train(**given(trainer, images=tmp_path / "broken.zip", word="blob", steps=10))


def test_training_schema_has_the_inputs_and_weights_output() -> None:
    require("torch")
    from pier.sdk.schema import openapi_schema

    train = import_trainer()
    schema = openapi_schema(import_predict(SLUG).Predictor, train.Trainer)
    components = schema["components"]["schemas"]
    props = components["TrainingInput"]["properties"]
    assert list(props) == ["images", "word", "steps", "learning_rate", "seed"]
    assert components["TrainingInput"]["required"] == ["images", "word"]
    assert props["images"]["format"] == "uri"
    assert components["TrainingOutput"]["properties"]["weights"]["format"] == "uri"


async def test_a_training_through_the_api_makes_a_version_that_knows_the_word(
    tmp_path: Path,
) -> None:
    require("torch")
    zipped = arrows_zip(tmp_path / "arrows.zip").read_bytes()
    images = "data:application/zip;base64," + base64.b64encode(zipped).decode()
    async with running_pier(tmp_path, files="", database="") as pier:
        base = await pier.add_builtin(SLUG)
        account = pier.info.account
        await pier.services.store.create_model(account["id"], "pier", "arrows", kind="image")
        url = f"/v1/models/pier/{SLUG}/versions/{base['id']}/trainings"
        body = {"destination": "pier/arrows", "input": {"images": images, "word": "two words"}}
        refused = await pier.client.post(url, json=body)
        assert refused.status_code == 422, refused.text
        body["input"] = {"images": images, "word": WORD, "steps": 30, "seed": 1}
        made = await pier.client.post(url, json=body)
        assert made.status_code == 201, made.text
        deadline = time.monotonic() + 300
        while (done := (await pier.client.get(made.json()["urls"]["get"])).json())[
            "status"
        ] not in ("succeeded", "failed", "canceled"):
            assert time.monotonic() < deadline, done
            await asyncio.sleep(0.2)
        assert done["status"] == "succeeded", (done["error"], done["logs"])
        assert "Teaching the word 'arrow' from 24 pictures" in done["logs"]
        owner_name, new_id = done["output"]["version"].split(":")
        assert owner_name == "pier/arrows"
        weights = await pier.client.get(done["output"]["weights"])
        assert weights.status_code == 200 and len(weights.content) > 1_000_000

        small = {"prompt": f"a {WORD}", "num_inference_steps": 3, "width": 64, "height": 64}
        runs = {}
        for version in (new_id, base["id"]):
            response = await pier.client.post(
                "/v1/predictions",
                json={"version": version, "input": {**small, "seed": 4}},
                headers={"Prefer": "wait=120"},
            )
            runs[version] = response.json()
            assert runs[version]["status"] == "succeeded", runs[version]
        assert "ignored_words" not in runs[new_id]["metrics"]
        assert runs[base["id"]]["metrics"]["ignored_words"] == [WORD]
