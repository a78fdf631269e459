"""inspect_model(): the schema without running setup, and readable load errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pier.runner.errors import ModelLoadError
from pier.runner.inspect import inspect_model

from .conftest import PREDICTORS

REFERENCE = Path(__file__).resolve().parents[1] / "sdk" / "cog_schemas" / "example_3_3.json"


async def test_schema_of_a_cog_model(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text(
        "from cog import BasePredictor, Input, Path\n"
        "print('imported, not set up')\n"
        "class Predictor(BasePredictor):\n"
        "    def setup(self):\n"
        "        raise RuntimeError('setup must not run')\n"
        "    def predict(\n"
        "        self,\n"
        "        prompt: str = Input(description='Text prompt'),\n"
        "        width: int = Input(description='Output width', default=512, ge=64, le=1024),\n"
        "        scheduler: str = Input(description='Sampler', choices=['DDIM', 'K_EULER'],\n"
        "                               default='DDIM'),\n"
        "        image: Path = Input(description='Init image'),\n"
        "    ) -> Path:\n"
        "        return image\n"
    )
    schema = (await inspect_model(tmp_path, "predict.py:Predictor")).schema
    assert schema == json.loads(REFERENCE.read_text())


async def test_schema_with_training() -> None:
    schema = (await inspect_model(PREDICTORS, "setup.py:Predictor", "train.py:train")).schema
    schemas = schema["components"]["schemas"]
    assert schemas["TrainingInput"]["required"] == ["n"]
    assert schemas["TrainingOutput"]["properties"]["weights"]["format"] == "uri"
    assert "/trainings" in schema["paths"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("missing_predictor.py:Predictor", "Cannot find 'Predictor' in missing_predictor.py"),
        ("nope.py:Predictor", "Cannot find nope.py in the model directory"),
        ("hello_world.py", "Invalid predictor reference 'hello_world.py'"),
        ("exc_on_import.py:Predictor", "ImportError: this model needs a package"),
        ("exit_on_import.py:Predictor", "called sys.exit(7)"),
        ("input_unsupported_type.py:Predictor", "Unsupported input type dict for parameter"),
        ("input_untyped.py:Predictor", "No type annotation for parameter `text`"),
    ],
)
async def test_load_errors(ref: str, message: str) -> None:
    with pytest.raises(ModelLoadError) as caught:
        await inspect_model(PREDICTORS, ref)
    assert message in caught.value.message


async def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        await inspect_model(tmp_path / "gone", "predict.py:Predictor")
