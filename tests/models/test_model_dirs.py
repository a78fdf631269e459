"""The five model directories are complete Cog directories with Pier's metadata, their input
schemas are what the issue asks for, and the shared diffusion code has not drifted apart."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import yaml

from tests.models.conftest import BUILTIN, import_predict, require

MODELS = {
    "text-to-image": "image",
    "text-to-video": "video",
    "tiny-llm": "text",
    "minilm": "embedding",
    "image-to-image": "image",
}
DIFFUSION = ("text-to-image", "text-to-video", "image-to-image")
MODEL_FILES = {"cog.yaml", "pier.yaml", "README.md", "predict.py", "train.py", "cover.png"}
WEIGHT_FILES = {"denoiser.py", "denoiser.safetensors", "gpt.py", "model.safetensors"}


@pytest.mark.parametrize("slug", MODELS)
def test_directory_holds_only_the_model(slug: str) -> None:
    names = {p.name for p in (BUILTIN / slug).iterdir() if p.name != "__pycache__"}
    assert {"cog.yaml", "pier.yaml", "README.md", "predict.py"} <= names
    assert names <= MODEL_FILES | WEIGHT_FILES, names - MODEL_FILES - WEIGHT_FILES
    for path in (BUILTIN / slug).glob("*.safetensors"):
        assert path.stat().st_size < 8_000_000, f"{path.name} is too big to ship"


@pytest.mark.parametrize("slug", MODELS)
def test_cog_yaml_pins_every_package(slug: str) -> None:
    config = yaml.safe_load((BUILTIN / slug / "cog.yaml").read_text())
    assert config["predict"] == "predict.py:Predictor"
    assert config["build"]["python_version"] == "3.11"
    packages = config["build"]["python_packages"]
    assert "torch==2.13.0" in packages
    assert all("==" in p for p in packages), packages


@pytest.mark.parametrize("slug", MODELS)
def test_pier_yaml_and_card(slug: str) -> None:
    meta = yaml.safe_load((BUILTIN / slug / "pier.yaml").read_text())
    assert meta["name"] == f"pier/{slug}"
    assert meta["kind"] == MODELS[slug]
    assert meta["description"] and "\n" not in meta["description"].strip()
    if "cover_image" in meta:
        assert (BUILTIN / slug / meta["cover_image"]).is_file()
    card = (BUILTIN / slug / "README.md").read_text()
    for heading in ("## Inputs", "## Training", "## Limits", "## Speed"):
        assert heading in card, f"{slug}/README.md lacks {heading}"


@pytest.mark.parametrize("slug", MODELS)
def test_example_uses_real_inputs(slug: str) -> None:
    meta = yaml.safe_load((BUILTIN / slug / "pier.yaml").read_text())
    require("torch")
    params = inspect.signature(import_predict(slug).Predictor.predict).parameters
    assert set(meta["example"]) <= set(params) - {"self"}


def schema_inputs(slug: str) -> dict[str, Any]:
    require("torch")
    from pier.sdk.schema import openapi_schema

    schema = openapi_schema(import_predict(slug).Predictor)
    props: dict[str, Any] = schema["components"]["schemas"]["Input"]["properties"]
    return props


def test_text_to_video_inputs_match_the_hosted_model_exactly() -> None:
    props = schema_inputs("text-to-video")
    assert list(props) == [
        "prompt",
        "width",
        "height",
        "video_length",
        "infer_steps",
        "embedded_guidance_scale",
        "fps",
        "seed",
    ]
    assert (props["width"]["default"], props["width"]["maximum"]) == (864, 1280)
    assert props["height"]["default"] == 480
    assert (props["video_length"]["default"], props["video_length"]["maximum"]) == (129, 200)
    assert props["infer_steps"]["default"] == 50
    guidance = props["embedded_guidance_scale"]
    assert (guidance["default"], guidance["minimum"], guidance["maximum"]) == (6, 1, 10)
    assert props["fps"]["default"] == 24
    assert props["seed"]["type"] == "integer" and "default" not in props["seed"]


def test_text_to_image_inputs() -> None:
    props = schema_inputs("text-to-image")
    assert list(props) == [
        "prompt",
        "negative_prompt",
        "width",
        "height",
        "num_inference_steps",
        "guidance_scale",
        "seed",
        "num_outputs",
        "output_format",
    ]
    for side in ("width", "height"):
        assert (props[side]["minimum"], props[side]["maximum"]) == (64, 1280)
    steps = props["num_inference_steps"]
    assert (steps["minimum"], steps["maximum"], steps["default"]) == (1, 100, 25)
    assert (props["guidance_scale"]["minimum"], props["guidance_scale"]["maximum"]) == (1, 10)
    assert (props["num_outputs"]["minimum"], props["num_outputs"]["maximum"]) == (1, 4)


def test_tiny_llm_and_image_to_image_inputs() -> None:
    llm = schema_inputs("tiny-llm")
    assert list(llm) == ["prompt", "max_new_tokens", "temperature", "top_p", "seed"]
    edit = schema_inputs("image-to-image")
    assert edit["image"]["format"] == "uri" and "prompt" in edit


@pytest.mark.parametrize("name", ["denoiser.py", "denoiser.safetensors"])
def test_diffusion_models_share_identical_code_and_weights(name: str) -> None:
    first = (BUILTIN / DIFFUSION[0] / name).read_bytes()
    for slug in DIFFUSION[1:]:
        assert (BUILTIN / slug / name).read_bytes() == first, (
            f"{slug}/{name} differs from text-to-image/{name}: copy it over "
            "(training/train_diffusion.py writes the weights into all three)"
        )
