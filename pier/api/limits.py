"""ASGI middleware: request body size limit (413) and the `/v1/v1` alias for clients whose
base URL already ends in /v1."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pier.api.errors import ApiError, problem

# `pier push` uploads (pier/api/routes/push.py) are limited by max_push_bytes there instead.
PUSH_PATH = re.compile(r"^/v1/models/[^/]+/[^/]+/versions/?$")


class BodyTooLarge(ApiError):
    """Raised while the body is read, so the route's error handling answers it like any other;
    the connection is closed after, as the rest of the body is never read."""

    def __init__(self, limit: int) -> None:
        detail = f"Request bodies must be at most {limit} bytes."
        super().__init__(413, detail, headers={"Connection": "close"})


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/v1/v1/") or path == "/v1/v1":
            scope = dict(scope, path=path[3:], raw_path=path[3:].encode())
            path = scope["path"]
        if scope["method"] == "POST" and PUSH_PATH.match(path):  # its own limit, max_push_bytes
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_body
                except ValueError:
                    too_big = False
                if too_big:
                    exc = BodyTooLarge(self.max_body)
                    await problem(exc.status, exc.detail, headers=exc.headers)(scope, receive, send)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        await self.app(scope, limited_receive, send)
