"""The served OpenAPI document describes the request bodies and who needs a token."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Pier

PUBLIC = {
    ("get", "/v1/hardware"),
    ("post", "/auth/login"),
    ("get", "/covers/{model_id}"),
    ("get", "/files/{token}/{name}"),
    ("get", "/v1/streams/{prediction_id}/{token}"),
    ("get", "/v1/files/streams/{prediction_id}/{token}"),
}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, path, op) for path, item in doc["paths"].items() for m, op in item.items()]


def json_schema(op: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return op["requestBody"]["content"][media]["schema"]  # type: ignore[no-any-return]


async def test_request_bodies_are_described(pier: Pier) -> None:
    doc = (await pier.client.get("/openapi.json", headers={"Authorization": ""})).json()
    paths = doc["paths"]
    by_version = json_schema(paths["/v1/predictions"]["post"])
    assert by_version["required"] == ["version"]
    assert {"version", "input", "webhook", "webhook_events_filter"} <= set(by_version["properties"])
    by_model = json_schema(paths["/v1/models/{owner}/{name}/predictions"]["post"])
    assert "input" in by_model["properties"] and "version" not in by_model["properties"]
    assert json_schema(paths["/auth/login"]["post"])["required"] == ["code"]
    upload = json_schema(paths["/v1/files"]["post"], "multipart/form-data")
    assert upload["properties"]["content"] == {"type": "string", "format": "binary"}
    # every POST takes a body, except cancel, which takes none
    for method, path, op in operations(doc):
        if method == "post" and not path.endswith("/cancel"):
            assert op["requestBody"]["required"] is True, path


async def test_errors_are_described_as_problem_details(pier: Pier) -> None:
    doc = (await pier.client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for _, path, op in operations(doc):
        assert "422" not in op["responses"], path
        assert "application/problem+json" in op["responses"]["default"]["content"], path


async def test_the_security_scheme_matches_what_the_api_does(pier: Pier) -> None:
    doc = (await pier.client.get("/openapi.json")).json()
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "Token" in scheme["description"]
    for method, path, op in operations(doc):
        declared = op.get("security") == [{"bearer": []}]
        assert declared == ((method, path) not in PUBLIC), (method, path)
        # ask without a token: a 401 exactly where the document says a token is needed
        url = re.sub(r"\{\w+\}", "x", path)
        response = await pier.client.request(
            method.upper(), url, json={}, headers={"Authorization": ""}
        )
        assert (response.status_code == 401) == declared, (method, path, response.status_code)
