"""Schema and validation for the fixture predictors, loaded in-process through the cog shim."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pier.runner.loader import SHIM_DIR, import_ref
from pier.sdk.schema import openapi_schema
from pier.sdk.validate import validate_input

PREDICTORS = Path(__file__).resolve().parents[1] / "fixtures" / "predictors"


@pytest.fixture
def schema_of() -> Iterator[Callable[[str], dict[str, Any]]]:
    """Import fixtures the way the runner does, then undo every import they caused."""
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(SHIM_DIR))

    def load(name: str) -> dict[str, Any]:
        return openapi_schema(import_ref(PREDICTORS, f"{name}.py:Predictor"))

    yield load
    sys.path[:] = saved_path
    ours = (str(PREDICTORS), str(SHIM_DIR))
    for name in set(sys.modules) - saved_modules:
        if str(getattr(sys.modules[name], "__file__", "")).startswith(ours):
            del sys.modules[name]


@pytest.mark.parametrize(
    ("fixture", "payload", "problems"),
    [
        ("input_string", {}, [("required", "input", "text is required")]),
        ("input_integer_ge_le", {"width": 2000},
         [("number_lte", "input.width", "Must be less than or equal to 1024")]),
        ("input_float", {"scale": 0.1},
         [("number_gte", "input.scale", "Must be greater than or equal to 0.5")]),
        ("input_bool", {"flag": "yes"},
         [("type", "input.flag", "Invalid type. Expected: boolean, given: string")]),
        ("input_choices", {"scheduler": "PNDM"},
         [("enum", "input.scheduler", 'Must be one of the following: "DDIM", "K_EULER"')]),
        ("input_choices_integer", {"steps": 30},
         [("enum", "input.steps", "Must be one of the following: 10, 20, 50")]),
        ("input_literal", {"mode": "medium"},
         [("enum", "input.mode", 'Must be one of the following: "fast", "slow"')]),
        ("input_regex", {"code": "A1"},
         [("pattern", "input.code", "Does not match pattern '^[a-z]+$'")]),
        ("input_length", {"name": "abcdefg"},
         [("string_max_length", "input.name", "Must be at most 5 characters long")]),
        ("input_path", {"image": 5},
         [("type", "input.image", "Invalid type. Expected: string, given: integer")]),
        ("input_list_of_paths", {"files": ["a", None]},
         [("type", "input.files.1", "Invalid type. Expected: string, given: null")]),
        ("input_secret", {"token": ["x"]},
         [("type", "input.token", "Invalid type. Expected: string, given: array")]),
        ("input_union", {"words": {"a": 1}},
         [("type", "input.words", "Invalid type. Expected one of: string, array, given: object")]),
    ],
)  # fmt: skip
def test_fixture_validation(schema_of, fixture: str, payload: dict, problems: list) -> None:
    _, found = validate_input(schema_of(fixture), payload)
    assert [(p.type, p.field, p.description) for p in found] == problems


@pytest.mark.parametrize(
    ("fixture", "field", "expected"),
    [
        ("input_deprecated", "old", {"type": "string", "title": "Old", "default": "x",
                                     "deprecated": True, "x-order": 0}),
        ("input_secret", "token", {"type": "string", "format": "password", "title": "Token",
                                   "description": "API token", "writeOnly": True,
                                   "x-cog-secret": True, "x-order": 0}),
        ("input_optional", "image", {"title": "Image", "description": "Optional file",
                                     "x-order": 1, "type": "string", "format": "uri",
                                     "nullable": True}),
        ("input_file", "data", {"type": "string", "format": "uri", "title": "Data",
                                "x-order": 0}),
    ],
)  # fmt: skip
def test_fixture_fields(schema_of, fixture: str, field: str, expected: dict) -> None:
    assert schema_of(fixture)["components"]["schemas"]["Input"]["properties"][field] == expected


@pytest.mark.parametrize(
    ("fixture", "output"),
    [
        ("concatenate_iterator", {"items": {"type": "string"}, "type": "array", "title": "Output",
                                  "x-cog-array-display": "concatenate",
                                  "x-cog-array-type": "iterator"}),
        ("yield_files", {"items": {"type": "string", "format": "uri"}, "type": "array",
                         "title": "Output", "x-cog-array-type": "iterator"}),
        ("output_list_of_paths", {"items": {"type": "string", "format": "uri"}, "type": "array",
                                  "title": "Output"}),
        ("input_kwargs", {"additionalProperties": True, "type": "object", "title": "Output"}),
    ],
)  # fmt: skip
def test_fixture_outputs(schema_of, fixture: str, output: dict) -> None:
    assert schema_of(fixture)["components"]["schemas"]["Output"] == output


def test_basemodel_fixture(schema_of) -> None:
    out = schema_of("output_basemodel")["components"]["schemas"]["Output"]
    assert out["required"] == ["text", "score", "file"]
    assert out["properties"]["note"] == {"title": "Note", "type": "string", "nullable": True}


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("input_unsupported_type", "Unsupported input type dict for parameter `options`"),
        ("input_untyped", "No type annotation for parameter `text`"),
    ],
)
def test_fixtures_that_cannot_be_described(schema_of, fixture: str, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        schema_of(fixture)


def test_user_class_named_output_inside_an_iterator(schema_of) -> None:
    schemas = schema_of("output_iterator_of_models")["components"]["schemas"]
    inner = "output_iterator_of_models__Output"
    assert schemas["Output"] == {
        "items": {"items": {"$ref": f"#/components/schemas/{inner}"}, "type": "array"},
        "type": "array",
        "title": "Output",
        "x-cog-array-type": "iterator",
    }
    assert schemas[inner]["properties"] == {"text": {"title": "Text", "type": "string"}}


def test_return_class_named_training_output_is_inlined(schema_of) -> None:
    schemas = schema_of("output_training_output")["components"]["schemas"]
    assert "TrainingOutput" not in schemas
    assert schemas["Output"] == {
        "properties": {
            "label": {"title": "Label", "type": "string"},
            "size": {"default": 0, "title": "Size", "type": "integer"},
        },
        "required": ["label"],
        "title": "Output",
        "type": "object",
    }


def test_nullable_input_without_default_leaves_an_empty_required_list(schema_of) -> None:
    spec = schema_of("input_optional_without_default")["components"]["schemas"]["Input"]
    assert spec["required"] == []
    assert list(spec) == ["properties", "type", "required", "title"]
    assert "required" not in schema_of("input_string_default")["components"]["schemas"]["Input"]


def test_default_that_breaks_its_own_constraint_is_refused(schema_of) -> None:
    with pytest.raises(TypeError, match=r"default of parameter `steps` \(1\) does not meet"):
        schema_of("input_default_breaks_constraint")


def test_experimental_feature_warning_is_importable(schema_of) -> None:
    assert schema_of("with_context_class")["components"]["schemas"]["Output"]["type"] == "string"
