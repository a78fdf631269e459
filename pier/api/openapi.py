"""The served OpenAPI document: what FastAPI reads from the route signatures, plus what it cannot
see there.

Several routes read their body by hand (skipping FastAPI's dependency solving, which costs more
than the rest of the handler), so their request bodies are declared here and attached with
`openapi_extra`. The document also names the bearer token scheme on every route that needs a
token, and describes every error as problem details.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

BEARER = "bearer"
BEARER_HELP = (
    "An API token, sent as `Authorization: Bearer <token>`. The `Token <token>` scheme of older "
    "clients is accepted too."
)
SECURITY_SCHEMES = {BEARER: {"type": "http", "scheme": "bearer", "description": BEARER_HELP}}
# Routes with the account dependency get this from FastAPI; routes that look the account up by
# hand declare it.
AUTHENTICATED: dict[str, Any] = {"security": [{BEARER: []}]}

PROBLEM = {
    "type": "object",
    "description": "Problem details (RFC 9457).",
    "required": ["title", "detail", "status"],
    "properties": {
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "status": {"type": "integer"},
        "invalid_fields": {
            "type": "array",
            "description": "For input validation errors: one entry per invalid field.",
            "items": {"type": "object"},
        },
    },
}
PROBLEM_RESPONSE = {
    "description": "An error, as problem details.",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

_PREDICTION_FIELDS: dict[str, Any] = {
    "input": {
        "type": "object",
        "description": "The model's inputs, as the version's `openapi_schema` describes them.",
        "additionalProperties": True,
    },
    "webhook": {
        "type": "string",
        "description": "An http(s) URL that receives the prediction as it changes.",
    },
    "webhook_events_filter": {
        "type": "array",
        "description": "Which changes are sent to the webhook (default: all).",
        "items": {"type": "string", "enum": ["start", "output", "logs", "completed"]},
    },
    "stream": {
        "type": "boolean",
        "description": "Accepted for older clients and ignored: every prediction has a stream URL.",
    },
    "tweaked_from": {
        "type": "string",
        "description": "The id of one of your predictions this one was tweaked from (a Pier "
        "extension, shown as a link on its page).",
    },
    "context": {
        "type": "object",
        "description": "String keys and values the model reads from `current_scope().context` "
        "(Cog's request context; Pier sets \"id\" to the prediction's id). "
        "At most 64 entries, 16 KiB.",
        "additionalProperties": {"type": "string"},
    },
}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }


# Creates take an Idempotency-Key: a retry with the same key and request gets the first
# prediction (pier/api/fairness.py).
IDEMPOTENCY_KEY: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Any 1 to 255 printable ASCII characters, unique per create. A retry "
            "with the same key and the same request within 24 hours returns the prediction the "
            "first one made, and creates and charges nothing new; the key with another request "
            "is refused (422).",
            "schema": {"type": "string", "maxLength": 255},
        }
    ]
}

VERSION_PREDICTION = AUTHENTICATED | json_body(
    {
        "type": "object",
        "required": ["version"],
        "properties": {
            "version": {
                "type": "string",
                "description": "A version id (64 hex digits), `owner/name` for a model's latest "
                "version, or `owner/name:id`.",
            },
            **_PREDICTION_FIELDS,
        },
    }
)
MODEL_PREDICTION = AUTHENTICATED | json_body({"type": "object", "properties": _PREDICTION_FIELDS})
VERSION_PREDICTION |= IDEMPOTENCY_KEY
MODEL_PREDICTION |= IDEMPOTENCY_KEY
LOGIN = json_body(
    {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "description": "The code of a login link."}},
    }
)
FILE_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["content"],
                    "properties": {
                        "content": {"type": "string", "format": "binary"},
                        "filename": {"type": "string"},
                        "type": {"type": "string", "description": "The file's media type."},
                        "metadata": {
                            "type": "string",
                            "description": "A JSON object kept with the file.",
                        },
                    },
                },
                "encoding": {"content": {"contentType": "application/octet-stream"}},
            }
        },
    }
}

_VERSION = {
    "type": "object",
    "description": "A model version, as `GET /v1/models/{owner}/{name}/versions/{id}` gives it.",
    "required": ["id", "created_at", "cog_version", "openapi_schema"],
    "properties": {
        "id": {"type": "string", "description": "The content hash of the model directory."},
        "created_at": {"type": "string", "format": "date-time"},
        "cog_version": {"type": "string"},
        "openapi_schema": {"type": "object", "description": "The model's inputs and output."},
    },
}
PUSH_VERSION: dict[str, Any] = {
    "summary": "Push a model directory as a new version (what `pier push` does)",
    "description": "The body is the model directory (cog.yaml at its top, or in its one "
    "directory) as a tar.gz, at most `max_push_bytes` (413), unpacking to at most "
    "`max_push_unpacked_bytes` (413). Archives with paths or links that lead outside the "
    "directory, and directories Pier cannot build or load, are a 422. You can push to your own "
    "models and create new ones under your own name; another account's model is a 403 when "
    "you can see it and a 404 otherwise. Content that is already a version of the model "
    "returns that version with 200, building nothing; a new version is 201.\n\n"
    "With `Accept: application/x-ndjson` the answer is a 200 stream, one JSON object per line "
    'while the version builds: `{"log": "..."}` for each build log line, then either '
    '`{"version": {...}, "created": true|false}` or `{"error": {problem details}}`. Empty '
    "lines keep the connection alive.",
    "requestBody": {
        "required": True,
        "description": "The tar.gz, sent as `application/gzip` (what `pier push` sends) or "
        "`application/octet-stream`.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    "responses": {
        "200": {
            "description": "The version with this content, which existed already; or, for "
            "`Accept: application/x-ndjson`, the build's log lines and its outcome.",
            "content": {
                "application/json": {"schema": _VERSION},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        "201": {
            "description": "The new version.",
            "content": {"application/json": {"schema": _VERSION}},
        },
    },
}


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of `app`, built once."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = doc.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            responses = operation["responses"]
            responses.pop("422", None)  # FastAPI's shape; Pier's 422s are problem details
            responses["default"] = PROBLEM_RESPONSE
    app.openapi_schema = doc
    return doc


def install(app: FastAPI) -> None:
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
