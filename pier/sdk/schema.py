"""Build a version's `openapi_schema` in the shape Cog 0.16.12 generates.

Checked against `python -m cog.command.openapi_schema` of cog 0.16.12 (pydantic 2). On purpose
Pier differs in three small places, all lossless: a `Literal[...]` input is described like
`choices` (Cog drops its default and description, and turns a one-value Literal into `const`);
a `Union` member that is a file is `{"type": "string", "format": "uri"}` (Cog writes a stray
empty `anyOf` there); and an unknown return class or a missing return annotation gives an
untyped `Output` instead of an error.
"""

from __future__ import annotations

import enum
import pathlib
import re
from typing import Any

from pier.sdk import openapi_base
from pier.sdk.input import FieldInfo
from pier.sdk.signature import InputField, Kind, Signature, TypeNode, read_signature
from pier.sdk.types import SECRET_SCHEMA, URI_SCHEMA, Secret
from pier.sdk.validate import validate_input

Schemas = dict[str, dict[str, Any]]

PRIMITIVES = {
    Kind.STR: {"type": "string"},
    Kind.INT: {"type": "integer"},
    Kind.FLOAT: {"type": "number"},
    Kind.BOOL: {"type": "boolean"},
    Kind.PATH: URI_SCHEMA,
    Kind.FILE: URI_SCHEMA,
    Kind.SECRET: SECRET_SCHEMA,
    Kind.ANY: {},
    Kind.DICT: {"additionalProperties": True, "type": "object"},
}


def title_of(name: str) -> str:
    """Pydantic's field title: `num_steps` → `Num Steps`."""
    return name.title().replace("_", " ").strip()


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_default(value: Any) -> Any:
    """A parameter default as it appears in JSON."""
    if isinstance(value, Secret):
        return value.get_secret_value()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, tuple | list):
        return [json_default(v) for v in value]
    return value


def type_schema(node: TypeNode, schemas: Schemas) -> dict[str, Any]:
    """The JSON schema of a type, without title; registers referenced model classes."""
    if node.kind in PRIMITIVES:
        out = dict(PRIMITIVES[node.kind])
    elif node.kind is Kind.LITERAL:
        out = {"enum": list(node.values), **type_schema(node.args[0], schemas)}
    elif node.kind is Kind.LIST:
        out = {"items": type_schema(node.args[0], schemas), "type": "array"}
    elif node.kind is Kind.ITERATOR:
        out = {"items": type_schema(node.args[0], schemas), "type": "array"}
        if node.concatenate:
            out["x-cog-array-display"] = "concatenate"
        out["x-cog-array-type"] = "iterator"
    elif node.kind is Kind.UNION:
        out = {"anyOf": [type_schema(arg, schemas) for arg in node.args]}
    else:  # Kind.MODEL
        assert node.model is not None
        schemas[node.model.__name__] = model_schema(node.model, schemas)
        out = ref(node.model.__name__)
    if node.nullable:
        out["nullable"] = True
    return out


# -- inputs -------------------------------------------------------------------------------------
def _constraints(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if info.le is not None:
        out["maximum"] = float(info.le)
    if info.ge is not None:
        out["minimum"] = float(info.ge)
    if info.max_length is not None:
        out["maxLength"] = info.max_length
    if info.min_length is not None:
        out["minLength"] = info.min_length
    if info.regex is not None:
        out["pattern"] = info.regex
    return out


def _describe(field: InputField) -> dict[str, Any]:
    info = field.info
    out: dict[str, Any] = {}
    if info.description is not None:
        out["description"] = info.description
    if info.has_default and info.default is not None:
        out["default"] = json_default(info.default)
    if info.deprecated:
        out["deprecated"] = True
    out["x-order"] = field.order
    return out


def _enum_property(field: InputField, values: tuple[Any, ...], schemas: Schemas) -> dict[str, Any]:
    base = field.type.args[0] if field.type.kind is Kind.LITERAL else field.type
    schemas[field.name] = {
        "type": "integer" if base.kind is Kind.INT else "string",
        "enum": list(values),
        "title": field.name,
        "description": "An enumeration.",
    }
    return {**_describe(field), "allOf": [ref(field.name)]}


def input_property(field: InputField, schemas: Schemas) -> dict[str, Any]:
    node = field.type
    choices = field.info.choices
    if choices is None and node.kind is Kind.LITERAL:
        choices = node.values
    if choices is not None:
        return _enum_property(field, choices, schemas)
    if node.nullable:
        plain = type_schema(TypeNode(node.kind, node.args, node.values, node.model), schemas)
        head = {"title": title_of(field.name), **_describe(field)}
        return {**head, **plain, **_constraints(field.info), "nullable": True}
    out = {**type_schema(node, schemas), **_constraints(field.info), "title": title_of(field.name)}
    return {**out, **_describe(field)}


def input_component(sig: Signature, title: str, schemas: Schemas) -> dict[str, Any]:
    props = {f.name: input_property(f, schemas) for f in sig.inputs}
    out: dict[str, Any] = {"properties": props}
    if sig.accepts_kwargs:
        out["additionalProperties"] = True
    out["type"] = "object"
    # Pydantic lists every input without a default; Cog then drops the nullable ones, and
    # keeps the list even when that leaves it empty.
    if any(f.must_be_given for f in sig.inputs):
        out["required"] = [f.name for f in sig.inputs if f.required]
    out["title"] = title
    return out


# -- outputs ------------------------------------------------------------------------------------
def openapi30(node: Any) -> Any:
    """Rewrite pydantic's JSON Schema into OpenAPI 3.0: `anyOf [T, null]` → `T, nullable`."""
    if isinstance(node, list):
        return [openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "anyOf" and isinstance(value, list):
            kept = [openapi30(v) for v in value if v.get("type") != "null"]
            if len(kept) == 1:
                out.update(kept[0])
            elif kept:
                out["anyOf"] = kept
            if len(kept) < len(value):
                out["nullable"] = True
        elif key == "default" and value is None:
            continue
        else:
            out[key] = openapi30(value)
    props = out.get("properties")
    if isinstance(props, dict) and "required" in out:  # kept when empty, as Cog does
        out["required"] = [k for k in out["required"] if not props.get(k, {}).get("nullable")]
    return out


def model_schema(model: type, schemas: Schemas) -> dict[str, Any]:
    raw = model.model_json_schema(ref_template="#/components/schemas/{model}")  # type: ignore[attr-defined]
    for name, sub in raw.pop("$defs", {}).items():
        schemas[name] = openapi30(sub)
    return dict(openapi30(raw))


# Cog names the return class after the component; a class named after the *other* output
# component is inlined under a subclass (cog 0.16 `get_output_type`/`get_training_output_type`).
TWIN = {"Output": "TrainingOutput", "TrainingOutput": "Output"}


def output_component(node: TypeNode, title: str, schemas: Schemas) -> None:
    if node.kind is Kind.MODEL and node.model is not None and not node.nullable:
        name = node.model.__name__
        body = model_schema(node.model, schemas)
        if name == title:
            schemas[title] = body
        elif name == TWIN[title]:
            schemas[title] = {**body, "title": title}
        else:
            schemas[name] = body
            schemas[title] = {**ref(name), "title": title}
        return
    own: Schemas = {}
    body = type_schema(node, own)
    if title in own:  # a user class of the same name inside (`Iterator[List[Output]]`)
        body, own = _rename(body, own, title, _qualified(node, title))
    schemas.update(own)
    if body.pop("nullable", False):
        if "anyOf" in body:
            schemas[title] = {**body, "title": title, "nullable": True}
        else:
            schemas[title] = {"title": title, **body, "nullable": True}
        return
    out = {k: v for k, v in body.items() if not k.startswith("x-cog-")}
    out["title"] = title
    out.update((k, v) for k, v in body.items() if k.startswith("x-cog-"))
    schemas[title] = out


def _qualified(node: TypeNode, name: str) -> str:
    """A component name for a user class that would take the place of `name`."""
    stack = [node]
    while stack:
        item = stack.pop()
        if item.model is not None and item.model.__name__ == name:
            module = re.sub(r"\W", "_", item.model.__module__)
            return f"{module}__{name}"
        stack.extend(item.args)
    return f"user__{name}"


def _rename(body: Any, schemas: Schemas, old: str, new: str) -> tuple[Any, Schemas]:
    before, after = f"#/components/schemas/{old}", f"#/components/schemas/{new}"

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (after if k == "$ref" and v == before else swap(v)) for k, v in value.items()
            }
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    renamed = {(new if k == old else k): swap(v) for k, v in schemas.items()}
    return swap(body), renamed


# -- the document -------------------------------------------------------------------------------
def build_schema(sig: Signature, train_sig: Signature | None = None) -> dict[str, Any]:
    """The whole OpenAPI document for a predict signature (and a train one, if any)."""
    doc = openapi_base.document(with_training=train_sig is not None)
    schemas: Schemas = doc["components"]["schemas"]
    schemas["Input"] = input_component(sig, "Input", schemas)
    output_component(sig.output, "Output", schemas)
    if train_sig is not None:
        schemas["TrainingInput"] = input_component(train_sig, "TrainingInput", schemas)
        output_component(train_sig.output, "TrainingOutput", schemas)
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    _check_defaults(doc, sig, "Input")
    if train_sig is not None:
        _check_defaults(doc, train_sig, "TrainingInput")
    return doc


def _check_defaults(doc: dict[str, Any], sig: Signature, component: str) -> None:
    """A default must pass its own input's checks (`Input(default=1, ge=2)` is an error):
    the same rules the API applies to requests."""
    for field in sig.inputs:
        if not field.info.has_default or field.info.default is None:
            continue
        value = json_default(field.info.default)
        _, problems = validate_input(doc, {field.name: value}, component)
        mine = [p for p in problems if p.field.split(".")[:2] == ["input", field.name]]
        if mine:
            raise TypeError(
                f"The default of parameter `{field.name}` ({value!r}) does not meet its own "
                f"constraints: {'; '.join(p.description for p in mine)}"
            )


def openapi_schema(predictor: Any, trainer: Any | None = None) -> dict[str, Any]:
    """The schema of a loaded predictor (a class or a function) and optional trainer.

    Raises TypeError, naming the parameter, for input types Cog does not support.
    """
    sig = read_signature(predictor, "predict")
    train_sig = read_signature(trainer, "train") if trainer is not None else None
    return build_schema(sig, train_sig)
