"""The typed prediction record and the `predictions` table cannot drift apart."""

from __future__ import annotations

import types
from typing import Any, get_args, get_origin, get_type_hints

import sqlalchemy as sa

from pier.dispatch.rows import new_prediction
from pier.jobs import PredictionRecord, Status
from pier.store.tables import predictions

HINTS = get_type_hints(PredictionRecord)


def _without_none(hint: Any) -> Any:
    if get_origin(hint) is types.UnionType:
        rest = [arg for arg in get_args(hint) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def test_the_record_has_a_key_for_each_column_and_all_are_required() -> None:
    assert list(HINTS) == [column.name for column in predictions.columns]
    assert PredictionRecord.__required_keys__ == set(HINTS)


def test_a_key_may_be_none_exactly_where_its_column_is_nullable() -> None:
    for column in predictions.columns:
        hint = HINTS[column.name]
        takes_none = hint is Any or type(None) in get_args(hint)
        assert takes_none == column.nullable, column.name


def test_each_plain_column_has_the_python_type_the_store_gives_back() -> None:
    for column in predictions.columns:
        if isinstance(column.type, sa.JSON):
            continue  # JSON holds any shape; the record says which
        assert _without_none(HINTS[column.name]) is column.type.python_type, column.name


def test_a_new_prediction_has_exactly_the_records_keys() -> None:
    model = {"id": "m1", "owner": "alice", "name": "hello"}
    version = {"id": "v1", "openapi_schema": {}}
    row = new_prediction("a1", model, version, {"text": "hi"}, webhook="https://example.com/h")
    assert list(row) == list(HINTS)
    assert row["status"] == Status.STARTING
    assert row["model"] == "alice/hello" and row["version"] == "v1"
