"""Read a predict/train function's signature into typed input fields and an output type.

Both the schema builder (strict: unsupported types are errors naming the parameter) and the
runner's input coercion (lenient: unknown annotations pass values through) use this.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import pathlib
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pier.sdk.input import FieldInfo, field_info_of
from pier.sdk.types import AsyncConcatenateIterator, ConcatenateIterator, File, Path, Secret

SUPPORTED = "str, int, float, bool, File, Path, Secret, or a Union or List of those types"


class Kind(enum.Enum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    PATH = "path"
    FILE = "file"
    SECRET = "secret"
    LIST = "list"
    UNION = "union"
    LITERAL = "literal"
    ANY = "any"
    DICT = "dict"
    MODEL = "model"
    ITERATOR = "iterator"


SCALARS: dict[Any, Kind] = {
    str: Kind.STR,
    int: Kind.INT,
    float: Kind.FLOAT,
    bool: Kind.BOOL,
    Path: Kind.PATH,
    pathlib.Path: Kind.PATH,
    pathlib.PosixPath: Kind.PATH,
    File: Kind.FILE,
    Secret: Kind.SECRET,
}
SYNC_ITERATORS = {
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
}
ASYNC_ITERATORS = {
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
}


@dataclass(frozen=True)
class TypeNode:
    kind: Kind
    args: tuple[TypeNode, ...] = ()
    values: tuple[Any, ...] = ()  # the choices of a Literal
    model: type | None = None  # the pydantic class of a MODEL
    nullable: bool = False  # Optional[...] / `| None` in the annotation
    concatenate: bool = False  # ConcatenateIterator
    is_async: bool = False  # AsyncIterator


@dataclass(frozen=True)
class InputField:
    name: str
    type: TypeNode
    info: FieldInfo
    order: int

    @property
    def required(self) -> bool:
        return not self.info.has_default and not self.type.nullable

    @property
    def must_be_given(self) -> bool:
        """Whether a request must name it: no default, even when null is allowed (pydantic
        asks for `file: Path | None` without a default; `None` is a valid value then)."""
        return not self.info.has_default

    @property
    def default(self) -> Any:
        """The value the model gets when the input is left out (None for optional ones)."""
        return self.info.default if self.info.has_default else None


@dataclass(frozen=True)
class Signature:
    inputs: tuple[InputField, ...]
    output: TypeNode
    accepts_kwargs: bool
    is_async: bool

    def field(self, name: str) -> InputField | None:
        for item in self.inputs:
            if item.name == name:
                return item
        return None


def type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def _literal_node(tp: Any, where: str) -> TypeNode:
    values = typing.get_args(tp)
    if values and all(isinstance(v, str) for v in values):
        return TypeNode(Kind.LITERAL, values=values, args=(TypeNode(Kind.STR),))
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return TypeNode(Kind.LITERAL, values=values, args=(TypeNode(Kind.INT),))
    raise TypeError(
        f"Unsupported Literal type for {where}: Literal values must be all str or all int"
    )


def input_type(tp: Any, name: str) -> TypeNode:
    """Parse a parameter annotation; anything outside Cog's input types is a TypeError."""
    where = f"parameter `{name}`"
    if typing.get_origin(tp) is typing.Annotated:
        return input_type(typing.get_args(tp)[0], name)
    if tp in SCALARS:
        return TypeNode(SCALARS[tp])
    options = _union_args(tp)
    if options is not None:
        nullable = type(None) in options
        rest = [o for o in options if o is not type(None)]
        if len(rest) == 1:
            return replace(input_type(rest[0], name), nullable=nullable)
        return TypeNode(
            Kind.UNION, args=tuple(input_type(o, name) for o in rest), nullable=nullable
        )
    origin = typing.get_origin(tp)
    if tp is list or origin is list:
        args = typing.get_args(tp)
        if not args:
            raise TypeError(f"List type for {where} needs an item type, e.g. List[str]")
        return TypeNode(Kind.LIST, args=(input_type(args[0], name),))
    if origin is typing.Literal:
        return _literal_node(tp, where)
    raise TypeError(
        f"Unsupported input type {type_name(tp)} for {where}. Supported input types are: "
        f"{SUPPORTED}."
    )


def _iterator_node(tp: Any, origin: Any) -> TypeNode | None:
    base = origin if origin is not None else tp
    concat = base in (ConcatenateIterator, AsyncConcatenateIterator)
    is_async = base in ASYNC_ITERATORS or base is AsyncConcatenateIterator
    if not concat and not is_async and base not in SYNC_ITERATORS:
        return None
    args = typing.get_args(tp)
    item = output_type(args[0]) if args else TypeNode(Kind.ANY)
    return TypeNode(Kind.ITERATOR, args=(item,), concatenate=concat, is_async=is_async)


def _is_model_class(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # no model class exists unless it was imported
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def output_type(tp: Any) -> TypeNode:
    """Parse a return annotation. Unknown classes map to ANY (an untyped output)."""
    if tp is inspect.Parameter.empty or tp is None or tp is type(None) or tp is Any:
        return TypeNode(Kind.ANY)
    if typing.get_origin(tp) is typing.Annotated:
        return output_type(typing.get_args(tp)[0])
    if tp in SCALARS:
        return TypeNode(SCALARS[tp])
    if _is_model_class(tp):
        return TypeNode(Kind.MODEL, model=tp)
    options = _union_args(tp)
    if options is not None:
        nullable = type(None) in options
        rest = [o for o in options if o is not type(None)]
        if len(rest) == 1:
            return replace(output_type(rest[0]), nullable=nullable)
        return TypeNode(Kind.UNION, args=tuple(output_type(o) for o in rest), nullable=nullable)
    origin = typing.get_origin(tp)
    if tp is dict or origin is dict:
        return TypeNode(Kind.DICT)
    if tp is list or origin is list:
        args = typing.get_args(tp)
        return TypeNode(Kind.LIST, args=(output_type(args[0]) if args else TypeNode(Kind.ANY),))
    if origin is typing.Literal:
        return _literal_node(tp, "the output")
    return _iterator_node(tp, origin) or TypeNode(Kind.ANY)


def callable_of(target: Any, method: str) -> tuple[Callable[..., Any], bool]:
    """The function to inspect for `method` on a class or a plain function, and whether its
    first parameter is `self` (an unbound method)."""
    if not inspect.isclass(target):
        if not callable(target):
            raise TypeError(f"{target!r} is neither a class nor a function")
        return target, False
    raw = inspect.getattr_static(target, method, None)
    if raw is None:
        raise TypeError(f"{target.__name__} has no {method}() method")
    bound = isinstance(raw, staticmethod | classmethod)
    return getattr(target, method), not bound


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(f"Could not resolve the type hints of {name}(): {exc}") from exc


def read_signature(target: Any, method: str = "predict", *, strict: bool = True) -> Signature:
    """Inputs and output of `target.method` (a class) or of `target` itself (a function)."""
    fn, skip_self = callable_of(target, method)
    params = list(inspect.signature(fn).parameters.values())
    if skip_self and params:
        params = params[1:]
    hints = _hints(fn)
    inputs: list[InputField] = []
    accepts_kwargs = False
    for param in params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise TypeError(f"Unsupported variadic positional parameter *{param.name}")
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            accepts_kwargs = True
            continue
        inputs.append(_field(param, hints, len(inputs), strict))
    output = output_type(hints.get("return", inspect.Parameter.empty))
    is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
    return Signature(tuple(inputs), output, accepts_kwargs, is_async)


def _field(param: inspect.Parameter, hints: dict[str, Any], order: int, strict: bool) -> InputField:
    info = field_info_of(param.default)
    annotation = hints.get(param.name, inspect.Parameter.empty)
    if annotation is inspect.Parameter.empty:
        if strict:
            raise TypeError(f"No type annotation for parameter `{param.name}`")
        node = TypeNode(Kind.ANY)
    elif strict:
        node = input_type(annotation, param.name)
    else:
        try:
            node = input_type(annotation, param.name)
        except TypeError:
            node = TypeNode(Kind.ANY)
    if strict and info.choices is not None:
        if node.kind not in (Kind.STR, Kind.INT):
            raise TypeError(
                f"The choices option of parameter `{param.name}` is only allowed on str or int "
                f"inputs, not {type_name(annotation)}"
            )
        if not info.choices:
            raise TypeError(f"The choices option of parameter `{param.name}` is empty")
    return InputField(param.name, node, info, order)
