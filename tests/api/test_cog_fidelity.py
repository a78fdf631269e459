"""Cog behaviours through the API: request context, output type checks, inputs that may be
null but must be given, and defaults that break their own constraints."""

from __future__ import annotations

import pytest

from pier.registry import ModelDirError
from pier.runner.errors import ModelLoadError
from tests.conftest import Pier


async def test_context_reaches_the_model_with_the_prediction_id(pier: Pier) -> None:
    await pier.add_fixture("t/ctx", "with_context_class.py")
    response = await pier.client.post(
        "/v1/models/t/ctx/predictions",
        json={"input": {"name": "pier"}, "context": {"prefix": "hey", "id": "not mine"}},
        headers={"Prefer": "wait=30"},
    )
    body = response.json()
    assert body["status"] == "succeeded", body
    assert body["output"] == f"hey pier ({body['id']})"
    plain = (await pier.create("t/ctx", {}, wait=30)).json()
    assert plain["output"] == f"hello world ({plain['id']})"


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        (["a"], "must be an object whose values are strings"),
        ({"n": 1}, "must be an object whose values are strings"),
        ({str(i): "" for i in range(65)}, "must have at most 64 entries"),
        ({"big": "x" * 17000}, "must be at most 16 KiB of keys and values"),
    ],
)
async def test_bad_context_is_a_clear_422(pier: Pier, context: object, problem: str) -> None:
    await pier.add_fixture("t/ctx", "with_context_class.py")
    response = await pier.client.post(
        "/v1/models/t/ctx/predictions", json={"input": {}, "context": context}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["detail"] == f"- context: {problem}\n"
    assert body["invalid_fields"] == [
        {"type": "invalid", "field": "context", "description": problem}
    ]


async def test_output_of_the_wrong_type_fails_the_prediction(pier: Pier) -> None:
    await pier.add_fixture("t/wrong", "output_wrong_type.py")
    body = (await pier.create("t/wrong", {"value": "foo"}, wait=30)).json()
    assert body["status"] == "failed"
    assert body["error"] == (
        "The return value of predict() is not valid: output: expected int, got str 'foo'"
    )
    fine = (await pier.create("t/wrong", {"value": "float"}, wait=30)).json()
    assert (fine["status"], fine["output"]) == ("succeeded", 3.0)


async def test_nullable_input_without_default_must_be_named(pier: Pier) -> None:
    version = await pier.add_fixture("t/opt", "input_optional_without_default.py")
    assert version["openapi_schema"]["components"]["schemas"]["Input"]["required"] == []
    left_out = await pier.create("t/opt", {}, wait=30)
    assert left_out.status_code == 422
    assert left_out.headers["content-type"].startswith("application/problem+json")
    problem = left_out.json()
    assert problem["detail"] == "- input: file is required (it may be null)\n"
    assert problem["invalid_fields"] == [
        {"type": "required", "field": "input", "description": "file is required (it may be null)"}
    ]
    assert (await pier.client.get("/v1/predictions")).json()["results"] == []
    named = (await pier.create("t/opt", {"file": None}, wait=30)).json()
    assert (named["status"], named["output"]) == ("succeeded", "file=False note=None")
    given = {"file": "data:text/plain;base64,aGk=", "note": "n"}
    full = (await pier.create("t/opt", given, wait=30)).json()
    assert (full["status"], full["output"]) == ("succeeded", "file=True note=n")


async def test_default_breaking_its_constraint_is_refused_at_registration(pier: Pier) -> None:
    with pytest.raises((ModelDirError, ModelLoadError), match=r"default of parameter `steps`"):
        await pier.add_fixture("t/bad", "input_default_breaks_constraint.py")
    assert (await pier.client.get("/v1/models/t/bad")).status_code == 404
