"""Check a prediction's input against a version's OpenAPI schema, without importing the model.

The result is the input the model will get (defaults filled in, unknown keys dropped as Cog
does) plus a list of problems in Replicate's vocabulary: `required`, `type`, `enum`,
`number_gte`, `number_lte`, `string_min_length`, `string_max_length`, `pattern`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True)
class InvalidField:
    type: str
    field: str
    description: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "field": self.field, "description": self.description}


def format_invalid_fields(problems: list[InvalidField]) -> str:
    """The problem detail text: one `- input.width: Must be …` line per problem."""
    return "".join(f"- {p.field}: {p.description}\n" for p in problems)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class _Checker:
    def __init__(self, schemas: dict[str, Schema]) -> None:
        self.schemas = schemas
        self.problems: list[InvalidField] = []

    def fail(self, kind: str, field: str, description: str) -> None:
        self.problems.append(InvalidField(kind, field, description))

    def resolve(self, schema: Schema) -> Schema:
        """Merge `$ref` and `allOf` references into one flat schema (outer keys win)."""
        parts = list(schema.get("allOf", []))
        if "$ref" in schema:
            parts.append({"$ref": schema["$ref"]})
        if not parts:
            return schema
        merged: Schema = {}
        for part in parts:
            target = part
            if "$ref" in part:
                target = self.schemas.get(part["$ref"].rsplit("/", 1)[-1], {})
            merged.update(self.resolve(target))
        merged.update({k: v for k, v in schema.items() if k not in ("allOf", "$ref")})
        return merged

    def check(self, schema: Schema, value: Any, field: str) -> Any:
        """Validate one value; returns it normalized (3.0 for an integer becomes 3)."""
        schema = self.resolve(schema)
        if value is None:
            if not schema.get("nullable") and schema:
                self.fail(
                    "type", field, f"Invalid type. Expected: {_expected(schema)}, given: null"
                )
            return value
        if "anyOf" in schema:
            return self.check_any_of(schema, value, field)
        expected = schema.get("type")
        value = self.check_type(expected, value, field)
        if value is _INVALID:
            return None
        if expected == "array":
            items = schema.get("items", {})
            value = [self.check(items, v, f"{field}.{i}") for i, v in enumerate(value)]
        self.check_enum(schema, value, field)
        self.check_bounds(schema, value, field)
        return value

    def check_any_of(self, schema: Schema, value: Any, field: str) -> Any:
        for option in schema["anyOf"]:
            trial = _Checker(self.schemas)
            checked = trial.check(option, value, field)
            if not trial.problems:
                return checked
        kinds = ", ".join(_expected(self.resolve(o)) for o in schema["anyOf"])
        self.fail(
            "type", field, f"Invalid type. Expected one of: {kinds}, given: {json_type(value)}"
        )
        return value

    def check_type(self, expected: str | None, value: Any, field: str) -> Any:
        given = json_type(value)
        if expected is None or expected == given:
            return value
        if expected == "number" and given == "integer":
            return value
        if expected == "integer" and given == "number" and float(value).is_integer():
            return int(value)
        self.fail("type", field, f"Invalid type. Expected: {expected}, given: {given}")
        return _INVALID

    def check_enum(self, schema: Schema, value: Any, field: str) -> None:
        options = schema.get("enum")
        if "const" in schema:
            options = [schema["const"]]
        if options is None:
            return
        if not any(value == o and json_type(value) == json_type(o) for o in options):
            listed = ", ".join(json.dumps(o) for o in options)
            self.fail("enum", field, f"Must be one of the following: {listed}")

    def check_bounds(self, schema: Schema, value: Any, field: str) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                bound = _number(schema["minimum"])
                self.fail("number_gte", field, f"Must be greater than or equal to {bound}")
            if "maximum" in schema and value > schema["maximum"]:
                bound = _number(schema["maximum"])
                self.fail("number_lte", field, f"Must be less than or equal to {bound}")
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                n = schema["minLength"]
                self.fail("string_min_length", field, f"Must be at least {n} characters long")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                n = schema["maxLength"]
                self.fail("string_max_length", field, f"Must be at most {n} characters long")
            pattern = schema.get("pattern")
            if pattern is not None and not _matches(pattern, value):
                self.fail("pattern", field, f"Does not match pattern '{pattern}'")


class _Invalid:
    pass


_INVALID: Any = _Invalid()


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # a pattern Python cannot compile is not the caller's fault


def _expected(schema: Schema) -> str:
    if "type" in schema:
        return str(schema["type"])
    if "anyOf" in schema:
        return " or ".join(str(o.get("type", "value")) for o in schema["anyOf"])
    return "value"


def validate_input(
    openapi_schema: dict[str, Any],
    payload: Any,
    component: str = "Input",
    required_nullable: Collection[str] | None = None,
) -> tuple[dict[str, Any], list[InvalidField]]:
    """Check `payload` against `components.schemas[component]` of a version's schema.

    Returns the cleaned input and the problems found (empty when the input is valid). A None
    payload counts as `{}`. An explicit null for an optional input counts as leaving it out.
    `required_nullable` names inputs that must be given though null is a valid value (the
    version's record of `T | None` inputs without a default, which the schema cannot tell).
    """
    schemas = openapi_schema.get("components", {}).get("schemas", {})
    spec = schemas.get(component, {})
    checker = _Checker(schemas)
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        given = json_type(payload)
        checker.fail("type", "input", f"Invalid type. Expected: object, given: {given}")
        return {}, checker.problems
    props: dict[str, Schema] = spec.get("properties", {})
    required = set(spec.get("required", []))
    must_give = set(required_nullable or ())
    cleaned: dict[str, Any] = {}
    for name, prop in props.items():
        value = payload.get(name)
        if name in must_give and name in payload and value is None:
            cleaned[name] = None
        elif name in payload and (
            value is not None or name in required or _nullable(checker, prop)
        ):
            cleaned[name] = checker.check(prop, value, f"input.{name}")
        elif name in required:
            checker.fail("required", "input", f"{name} is required")
        elif name in must_give:
            checker.fail("required", "input", f"{name} is required (it may be null)")
        elif "default" in prop:
            cleaned[name] = copy.deepcopy(prop["default"])
    if spec.get("additionalProperties") is True:
        cleaned.update({k: v for k, v in payload.items() if k not in props})
    return cleaned, checker.problems


def _nullable(checker: _Checker, prop: Schema) -> bool:
    return bool(checker.resolve(prop).get("nullable"))
