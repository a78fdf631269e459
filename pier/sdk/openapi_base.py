"""The fixed part of a Cog 0.16 OpenAPI document: its paths and envelope components.

Only `Input`, `Output` (and `TrainingInput`/`TrainingOutput`) depend on the model; everything
here is the same for every model, as Cog's FastAPI server describes itself.
"""

from __future__ import annotations

from typing import Any

from pier.jobs import Status

WEBHOOK_EVENTS = ["start", "output", "logs", "completed"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "Successful Response", "content": _json(schema)}


def _invalid() -> dict[str, Any]:
    return {"description": "Validation Error", "content": _json(_ref("HTTPValidationError"))}


def _prefer() -> dict[str, Any]:
    return {
        "name": "prefer",
        "in": "header",
        "required": False,
        "schema": {"title": "Prefer", "type": "string"},
    }


def _id_param(name: str, title: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "title": title},
    }


def _simple(summary: str, operation: str, response_title: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "operationId": operation,
        "responses": {"200": _ok({"title": response_title})},
    }


def _create(summary: str, operation: str, request: dict[str, Any], response: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "operationId": operation,
        "parameters": [_prefer()],
        "requestBody": {"content": _json(request)},
        "responses": {"200": _ok(_ref(response)), "422": _invalid()},
    }


def _put(op: dict[str, Any], param: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    op["parameters"] = [param, _prefer()]
    op["requestBody"] = {"required": True, "content": _json(request)}
    return op


def _cancel(summary: str, operation: str, param: dict[str, Any], title: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "operationId": operation,
        "parameters": [param],
        "responses": {"200": _ok({"title": title}), "422": _invalid()},
    }


def _training_paths() -> dict[str, Any]:
    param = _id_param("training_id", "Training ID")
    put = _create(
        "Train Idempotent",
        "train_idempotent_trainings__training_id__put",
        _ref("TrainingRequest"),
        "TrainingResponse",
    )
    return {
        "/trainings": {
            "post": _create(
                "Train", "train_trainings_post", _ref("TrainingRequest"), "TrainingResponse"
            )
        },
        "/trainings/{training_id}": {
            "put": _put(put, param, {**_ref("TrainingRequest"), "title": "Training Request"})
        },
        "/trainings/{training_id}/cancel": {
            "post": _cancel(
                "Cancel Training",
                "cancel_training_trainings__training_id__cancel_post",
                param,
                "Response Cancel Training Trainings  Training Id  Cancel Post",
            )
        },
    }


def _prediction_paths() -> dict[str, Any]:
    param = _id_param("prediction_id", "Prediction ID")
    post = _create(
        "Predict", "predict_predictions_post", _ref("PredictionRequest"), "PredictionResponse"
    )
    post["description"] = "Run a single prediction on the model"
    post = {k: post[k] for k in ("summary", "description", *[k for k in post if k != "summary"])}
    put = _create(
        "Predict Idempotent",
        "predict_idempotent_predictions__prediction_id__put",
        {},
        "PredictionResponse",
    )
    put = {
        "summary": put["summary"],
        "description": "Run a single prediction on the model (idempotent creation).",
        **{k: v for k, v in put.items() if k != "summary"},
    }
    wrapped = {"allOf": [_ref("PredictionRequest")], "title": "Prediction Request"}
    cancel = _cancel(
        "Cancel",
        "cancel_predictions__prediction_id__cancel_post",
        param,
        "Response Cancel Predictions  Prediction Id  Cancel Post",
    )
    cancel = {
        "summary": "Cancel",
        "description": "Cancel a running prediction",
        **{k: v for k, v in cancel.items() if k != "summary"},
    }
    return {
        "/": {"get": _simple("Root", "root__get", "Response Root  Get")},
        "/health-check": {
            "get": _simple(
                "Healthcheck",
                "healthcheck_health_check_get",
                "Response Healthcheck Health Check Get",
            )
        },
        "/predictions": {"post": post},
        "/predictions/{prediction_id}": {"put": _put(put, param, wrapped)},
        "/predictions/{prediction_id}/cancel": {"post": cancel},
    }


def _nullable(title: str, **schema: Any) -> dict[str, Any]:
    return {"title": title, **schema, "nullable": True}


def _request(input_name: str, keep_filter_title: bool) -> dict[str, Any]:
    events: dict[str, Any] = {"title": "Webhook Events Filter"} if keep_filter_title else {}
    events.update(
        default=list(WEBHOOK_EVENTS), items=_ref("WebhookEvent"), type="array", nullable=True
    )
    props = {
        "input": {**_ref(input_name), "nullable": True},
        "id": _nullable("Id", type="string"),
        "created_at": _nullable("Created At", type="string", format="date-time"),
        "context": _nullable("Context", additionalProperties={"type": "string"}, type="object"),
        "output_file_prefix": _nullable("Output File Prefix", type="string"),
        "webhook": _nullable("Webhook", type="string", maxLength=65536, minLength=1, format="uri"),
        "webhook_events_filter": events,
    }
    return {"properties": props, "type": "object"}


def _response(input_name: str, output: dict[str, Any]) -> dict[str, Any]:
    stamp = {"type": "string", "format": "date-time"}
    props = {
        "input": {**_ref(input_name), "nullable": True},
        "output": output,
        "id": _nullable("Id", type="string"),
        "version": _nullable("Version", type="string"),
        "created_at": _nullable("Created At", **stamp),
        "started_at": _nullable("Started At", **stamp),
        "completed_at": _nullable("Completed At", **stamp),
        "logs": {"type": "string", "title": "Logs", "default": ""},
        "error": _nullable("Error", type="string"),
        "status": {**_ref("Status"), "nullable": True},
        "metrics": _nullable("Metrics", additionalProperties=True, type="object"),
    }
    return {"properties": props, "type": "object"}


def _enum(title: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values, "title": title, "description": "An enumeration."}


def _components(with_training: bool) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "HTTPValidationError": {
            "properties": {
                "detail": {"items": _ref("ValidationError"), "type": "array", "title": "Detail"}
            },
            "type": "object",
            "title": "HTTPValidationError",
        },
        "PredictionRequest": {**_request("Input", False), "title": "PredictionRequest"},
        "PredictionResponse": {**_response("Input", _ref("Output")), "title": "PredictionResponse"},
        "Status": _enum("Status", [status.value for status in Status]),  # in Cog's order
        "ValidationError": {
            "properties": {
                "loc": {
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    "type": "array",
                    "title": "Location",
                },
                "msg": {"type": "string", "title": "Message"},
                "type": {"type": "string", "title": "Error Type"},
            },
            "type": "object",
            "required": ["loc", "msg", "type"],
            "title": "ValidationError",
        },
        "WebhookEvent": _enum("WebhookEvent", list(WEBHOOK_EVENTS)),
    }
    if with_training:
        output = {**_ref("TrainingOutput"), "nullable": True}
        schemas["TrainingRequest"] = {**_request("TrainingInput", True), "title": "TrainingRequest"}
        schemas["TrainingResponse"] = {
            **_response("TrainingInput", output),
            "title": "TrainingResponse",
        }
    return schemas


def document(with_training: bool = False) -> dict[str, Any]:
    """A fresh document without the model-specific components."""
    paths: dict[str, Any] = {
        "/shutdown": {
            "post": _simple(
                "Start Shutdown",
                "start_shutdown_shutdown_post",
                "Response Start Shutdown Shutdown Post",
            )
        }
    }
    if with_training:
        paths.update(_training_paths())
    paths.update(_prediction_paths())
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": paths,
        "components": {"schemas": _components(with_training)},
    }
