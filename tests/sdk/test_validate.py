"""Input validation against a version's schema, with Replicate's error vocabulary."""

from __future__ import annotations

from typing import Any

import pytest

from pier import BasePredictor, Input, Path, Secret
from pier.sdk.schema import openapi_schema
from pier.sdk.validate import InvalidField, format_invalid_fields, validate_input


class Predictor(BasePredictor):
    def predict(
        self,
        prompt: str = Input(description="Text prompt"),
        width: int = Input(default=512, ge=64, le=1024),
        scale: float = Input(default=7.5, ge=1, le=20),
        scheduler: str = Input(choices=["DDIM", "K_EULER"], default="DDIM"),
        steps: int = Input(choices=[10, 20], default=10),
        image: Path = Input(default=None),
        images: list[Path] = Input(default=None),
        code: str = Input(default="abc", regex="^[a-z]+$", min_length=2, max_length=5),
        flag: bool = False,
        seed: int = Input(default=None),
        maybe: int | None = Input(default=3),
        words: str | list[str] = "x",
        token: Secret = Input(default=None),
    ) -> str:
        return prompt


SCHEMA = openapi_schema(Predictor)
DEFAULTS = {
    "width": 512,
    "scale": 7.5,
    "scheduler": "DDIM",
    "steps": 10,
    "code": "abc",
    "flag": False,
    "maybe": 3,
    "words": "x",
}


def check(payload: Any) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    cleaned, problems = validate_input(SCHEMA, payload)
    return cleaned, [(p.type, p.field, p.description) for p in problems]


def test_valid_input_gets_defaults_and_loses_unknown_keys() -> None:
    cleaned, problems = check({"prompt": "a cat", "unknown": 1, "image": "/tmp/x.png"})
    assert problems == []
    assert cleaned == {"prompt": "a cat", **DEFAULTS, "image": "/tmp/x.png"}


def test_none_payload_is_an_empty_object() -> None:
    assert check(None)[1] == [("required", "input", "prompt is required")]


@pytest.mark.parametrize("payload", [[1], "text", 3])
def test_payload_must_be_an_object(payload: Any) -> None:
    kind = {list: "array", str: "string", int: "integer"}[type(payload)]
    assert check(payload)[1] == [
        ("type", "input", f"Invalid type. Expected: object, given: {kind}")
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"width": 5000}, ("number_lte", "input.width", "Must be less than or equal to 1024")),
        ({"width": 8}, ("number_gte", "input.width", "Must be greater than or equal to 64")),
        ({"scale": 0.5}, ("number_gte", "input.scale", "Must be greater than or equal to 1")),
        ({"width": 1.5}, ("type", "input.width", "Invalid type. Expected: integer, given: number")),
        ({"width": True}, ("type", "input.width",
                           "Invalid type. Expected: integer, given: boolean")),
        ({"width": "9"}, ("type", "input.width", "Invalid type. Expected: integer, given: string")),
        ({"flag": 1}, ("type", "input.flag", "Invalid type. Expected: boolean, given: integer")),
        ({"scheduler": "X"}, ("enum", "input.scheduler",
                              'Must be one of the following: "DDIM", "K_EULER"')),
        ({"steps": 15}, ("enum", "input.steps", "Must be one of the following: 10, 20")),
        ({"steps": "10"}, ("type", "input.steps",
                           "Invalid type. Expected: integer, given: string")),
        ({"code": "ABC"}, ("pattern", "input.code", "Does not match pattern '^[a-z]+$'")),
        ({"code": "a"}, ("string_min_length", "input.code", "Must be at least 2 characters long")),
        ({"code": "abcdef"}, ("string_max_length", "input.code",
                              "Must be at most 5 characters long")),
        ({"image": 3}, ("type", "input.image", "Invalid type. Expected: string, given: integer")),
        ({"images": ["a", 2]}, ("type", "input.images.1",
                                "Invalid type. Expected: string, given: integer")),
        ({"images": "a"}, ("type", "input.images", "Invalid type. Expected: array, given: string")),
        ({"words": 3}, ("type", "input.words",
                        "Invalid type. Expected one of: string, array, given: integer")),
    ],
)  # fmt: skip
def test_invalid_fields(fields: dict[str, Any], problem: tuple[str, str, str]) -> None:
    assert check({"prompt": "p", **fields})[1] == [problem]


def test_several_problems_and_their_detail_text() -> None:
    _, problems = validate_input(SCHEMA, {"width": 5000})
    assert problems == [
        InvalidField("required", "input", "prompt is required"),
        InvalidField("number_lte", "input.width", "Must be less than or equal to 1024"),
    ]
    assert format_invalid_fields(problems) == (
        "- input: prompt is required\n- input.width: Must be less than or equal to 1024\n"
    )
    assert problems[0].to_dict() == {
        "type": "required",
        "field": "input",
        "description": "prompt is required",
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"width": 64.0}, {"width": 64}),  # an integral float is an integer
        ({"scale": 3}, {"scale": 3}),  # an integer is a number
        ({"seed": None}, {}),  # null for an optional input is the same as leaving it out
        ({"maybe": None}, {"maybe": None}),  # a nullable input keeps its null
        ({"words": ["a", "b"]}, {"words": ["a", "b"]}),
        ({"token": "s3cret"}, {"token": "s3cret"}),
    ],
)
def test_accepted_values(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    cleaned, problems = check({"prompt": "p", **fields})
    assert problems == []
    assert cleaned == {"prompt": "p", **DEFAULTS, **expected}


def test_null_for_a_required_input() -> None:
    assert check({"prompt": None})[1] == [
        ("type", "input.prompt", "Invalid type. Expected: string, given: null")
    ]


def test_defaults_are_copies() -> None:
    class Lists(BasePredictor):
        def predict(self, tags: list[str] = Input(default=["a"])) -> str:
            return ""

    schema = openapi_schema(Lists)
    first, _ = validate_input(schema, {})
    first["tags"].append("changed")
    second, _ = validate_input(schema, {})
    assert second == {"tags": ["a"]}


def test_kwargs_keep_unknown_keys() -> None:
    def predict(**kwargs: Any) -> dict:
        return kwargs

    cleaned, problems = validate_input(openapi_schema(predict), {"a": 1, "b": [2]})
    assert (cleaned, problems) == ({"a": 1, "b": [2]}, [])


def test_training_input_component() -> None:
    def train(n: int = Input(ge=1)) -> str:
        return ""

    schema = openapi_schema(Predictor, train)
    _, problems = validate_input(schema, {"n": 0}, component="TrainingInput")
    assert problems == [InvalidField("number_gte", "input.n", "Must be greater than or equal to 1")]


def test_nullable_input_without_default_must_be_named_when_recorded() -> None:
    class Nullable(BasePredictor):
        def predict(self, file: Path | None, note: str | None = None) -> str:
            return ""

    schema = openapi_schema(Nullable)
    cleaned, problems = validate_input(schema, {}, required_nullable=["file"])
    assert [(p.type, p.field, p.description) for p in problems] == [
        ("required", "input", "file is required (it may be null)")
    ]
    assert validate_input(schema, {"file": None}, required_nullable=["file"]) == (
        {"file": None},
        [],
    )
    # A version added before this was recorded: left out is accepted, as before.
    assert validate_input(schema, {})[1] == []
