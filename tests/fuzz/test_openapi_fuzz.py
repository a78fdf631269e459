"""Schemathesis against the real `pier serve`, driven by the OpenAPI document it serves.

Every operation gets a bounded number of generated requests: valid ones (by the document) and
invalid ones (wrong types, missing fields, odd strings), with a valid token, half of them
aimed at objects that exist (a model, a version, a prediction, a file). Any 5xx fails the test,
and so does any error that is not problem+json.

Every operation of the document is fuzzed (the QUERY search is not in it: OpenAPI 3.1 has no
such method; GET /v1/models?q= is the same search). The stream routes are too: with the token
of a finished prediction, whose stream replays and ends, and with generated tokens, which never
match a 192-bit one, so no request streams forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.conftest import model_dir
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.fuzz]

EXAMPLES = 12  # for each operation: valid and invalid data, any and existing objects
MODEL = "fuzz/hello"


@pytest.fixture(scope="module")
def pier_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("fuzz")
    server = Server(tmp / "data").start("--no-builtin-models")
    try:
        directory = model_dir(tmp, "hello_world.py")
        subprocess.run(
            [sys.executable, "-m", "pier.cli.main", "models", "add", str(directory)]
            + ["--name", MODEL, "--data-dir", str(server.data_dir)],
            check=True,
            capture_output=True,
        )
        yield server
    finally:
        server.stop()


def existing_objects(http: httpx.Client) -> dict[str, str]:
    """Path parameters naming objects that exist, so requests reach past the lookups."""
    version = http.get(f"/v1/models/{MODEL}").json()["latest_version"]["id"]
    prediction = http.post(
        f"/v1/models/{MODEL}/predictions",
        json={"input": {"text": "fuzz"}},
        headers={"Prefer": "wait=30"},
    ).json()
    assert prediction["status"] == "succeeded"  # so its stream replays and ends
    owner, name = MODEL.split("/")
    return {
        "owner": owner,
        "name": name,
        "version_id": version,
        "prediction_id": prediction["id"],
        "stream_token": prediction["urls"]["stream"].rsplit("/", 1)[1],
    }


def fixed_for(operation: Any, known: dict[str, str], file_id: str) -> dict[str, str]:
    values = dict(known, file_id=file_id)
    if "/streams/" in operation.path:
        values["token"] = known["stream_token"]
    return {p.name: values[p.name] for p in operation.path_parameters if p.name in values}


def body_properties(operation: Any) -> dict[str, Any]:
    body = operation.definition.raw.get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return dict(schema.get("properties", {}))


def with_version(version: str) -> Any:
    """Aim a generated create request at a version that exists."""

    def aim(case: Any) -> Any:
        if isinstance(case.body, dict):
            case.body["version"] = version
        return case

    return aim


def new_file(http: httpx.Client) -> str:
    return str(http.post("/v1/files", files={"content": ("a.txt", b"fuzz")}).json()["id"])


def problems_of(case: Any, response: Any) -> list[str]:
    """What is wrong with one answer: a server error, or an error that is not problem+json."""
    status = response.status_code
    where = f"{case.method} {case.formatted_path} -> {status}"
    if status >= 500:
        return [f"{where}: server error\n  {case.as_curl_command()}"]
    if status < 400:
        return []
    media = (response.headers.get("content-type") or [""])[0]
    if media != "application/problem+json":
        return [f"{where}: error with content-type {media!r}"]
    try:
        body = json.loads(response.content)
    except ValueError:
        return [f"{where}: problem+json body is not JSON"]
    if not (isinstance(body, dict) and body.get("status") == status and body.get("detail")):
        return [f"{where}: problem body {body!r}"]
    return []


def test_no_request_gets_a_server_error_or_a_bare_error(pier_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{pier_server.url}/openapi.json")
    auth = {"Authorization": f"Bearer {pier_server.token}"}
    found: list[str] = []
    operations = 0
    with httpx.Client(base_url=pier_server.url, headers=auth, timeout=30) as http:
        known = existing_objects(http)
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            fixed = fixed_for(operation, known, new_file(http))  # a fresh file: one may go
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for path_parameters in [None, fixed] if fixed else [None]:
                    strategy = operation.as_strategy(mode, path_parameters=path_parameters)
                    found += fuzz(strategy, auth)
                if "version" in body_properties(operation):
                    aimed = operation.as_strategy(mode).map(with_version(known["version_id"]))
                    found += fuzz(aimed, auth)
    assert operations >= 20  # the whole API was described and fuzzed
    assert not found, "\n".join(sorted(set(found)))


def fuzz(strategy: st.SearchStrategy[Any], headers: dict[str, str]) -> list[str]:
    found: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests on every run: a CI failure reproduces
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        found.extend(problems_of(case, case.call(headers=headers, timeout=30)))

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to make invalid: every parameter is fixed, and there is no body
    return found
