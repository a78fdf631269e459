"""Problem details (RFC 7807) for every error the API returns; never a traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pier.billing.ledger import InsufficientCredit
from pier.billing.money import usd
from pier.blobs import BlobsUnavailable
from pier.queue import QueueUnavailable
from pier.store import StoreUnavailable

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    402: "Insufficient credit",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Input validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """An error for the client: `extra` goes into the problem body, `headers` onto the response."""

    def __init__(
        self,
        status: int,
        detail: str,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {"title": title or TITLES.get(status, "Error"), "detail": detail, "status": status}
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(
        json.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} was not found.")


def insufficient_credit(exc: InsufficientCredit) -> ApiError:
    """402: what the account has available and what the request needed, in dollars."""
    return ApiError(402, exc.reason, available_usd=usd(exc.available), needed_usd=usd(exc.needed))


# Every method some route of Pier answers to.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "QUERY")


def allowed_methods(scope: Scope) -> str:
    """The methods that some route answers at this path (for a 405's `Allow` header).

    Starlette names the methods of the first route whose path matches, but a path can have
    several routes (GET and QUERY /v1/models, the playground's catch-all GET); so each method
    is tried against every route.
    """
    routes = scope["app"].router.routes
    allowed = [
        method
        for method in METHODS
        if method != scope["method"]
        and any(route.matches(dict(scope, method=method))[0] == Match.FULL for route in routes)
    ]
    return ", ".join(allowed)


def _response(request: Request, exc: ApiError | StarletteHTTPException) -> Response:
    if isinstance(exc, ApiError):
        status, detail, title, extra = exc.status, exc.detail, exc.title, exc.extra
    else:
        status, title, extra = exc.status_code, None, {}
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = allowed_methods(request.scope)
    return problem(status, detail, title, headers, **extra)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _response(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _response(request, exc)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        lines.append(f"- {where}: {error.get('msg')}")
    return problem(422, "\n".join(lines) + "\n", "Invalid request")


async def _queue_unavailable(_request: Request, exc: Exception) -> Response:
    log.warning("%s", exc)
    return problem(503, "The job queue is unreachable; nothing was accepted. Try again shortly.")


async def _blobs_unavailable(_request: Request, exc: Exception) -> Response:
    log.warning("%s", exc)
    return problem(503, "The file store is unreachable. Try again shortly.")


async def _store_unavailable(_request: Request, exc: Exception) -> Response:
    log.warning("%s (%s)", exc, exc.__cause__)
    return problem(503, str(exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(BlobsUnavailable, _blobs_unavailable)
    app.add_exception_handler(QueueUnavailable, _queue_unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


class LastResort:
    """Turns an exception that escaped every handler into a complete problem response.

    Starlette's own last resort (its ServerErrorMiddleware) sends a 500 and then raises again;
    the HTTP server sees the exception and drops the connection, so a client's next request on
    that kept-alive connection is reset. Here nothing is raised once a response went out whole;
    only a response cut off halfway is left to the server to end by closing the connection.
    Added last, so it wraps every other middleware.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the client left while its body was read: no one to answer
        except Exception as exc:
            if isinstance(exc, ApiError):
                response = problem(exc.status, exc.detail, exc.title, exc.headers, **exc.extra)
            elif isinstance(exc, StoreUnavailable):
                response = problem(503, str(exc))
            else:
                method, path = scope.get("method"), scope.get("path")
                log.error("unexpected error on %s %s", method, path, exc_info=exc)
                detail = "Pier hit an unexpected error. The server log has the details."
                response = problem(500, detail)
            if not started:
                await response(scope, receive, send)
            elif not finished:
                raise
