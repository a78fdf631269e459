"""A returned value is checked against the declared output type with Cog's lax rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, Optional

import pytest

from pier import BaseModel, Path
from pier.sdk.conform import mismatch
from pier.sdk.signature import output_type


class Item(BaseModel):
    text: str


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (int, 3), (int, 3.0), (int, True), (int, "7"), (int, None),
        (float, 2), (float, "2.5"), (bool, 1), (bool, "yes"), (str, "x"),
        (Path, "out.png"), (list[int], [1, "2"]), (list[int], (1, 2)),
        (list[Optional[int]], [None]), (Optional[list[int]], None),  # noqa: UP045
        (Literal["a", "b"], "a"), (dict, {"a": 1}), (Any, object()),
        (Item, Item(text="x")), (Item, {"text": "x"}), (int | str, "z"),
        (Iterator[int], [1, 2]),
    ],
)  # fmt: skip
def test_values_that_fit(annotation: Any, value: Any) -> None:
    assert mismatch(output_type(annotation), value) is None


@pytest.mark.parametrize(
    ("annotation", "value", "message"),
    [
        (int, "foo", "output: expected int, got str 'foo'"),
        (int, 3.5, "output: expected int, got float 3.5"),
        (str, 5, "output: expected str, got int 5"),
        (bool, "maybe", "output: expected bool, got str 'maybe'"),
        (list[int], [1, "x"], "output[1]: expected int, got str 'x'"),
        (list[int], [1, None], "output[1]: got None"),
        (list[str], "abc", "output: expected List[str], got str"),
        (Literal["a", "b"], "c", "output: expected Literal['a', 'b'], got str 'c'"),
        (dict, [1], "output: expected dict, got list [1]"),
        (Item, 3, "output: expected Item, got int 3"),
    ],
)
def test_values_that_do_not_fit(annotation: Any, value: Any, message: str) -> None:
    assert mismatch(output_type(annotation), value) == message
