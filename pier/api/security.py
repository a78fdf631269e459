"""Security headers on every response: what the browser may load, run and frame.

The playground is a single-page app built from files under /static (no inline script, no inline
event handler, no inline style attribute), so its policy can forbid inline code outright. A route
that sets its own policy (user files are served with a `sandbox` policy) keeps it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(base_url: str = "") -> str:
    """The page policy. Output files are linked through `base_url`, which may name another
    spelling of this server's address than the one in the address bar, so its origin is allowed
    for media and requests too. Images and media may also come from any https URL: a
    prediction's input may be one, and the playground shows it."""
    own = "'self'"
    parts = urlsplit(base_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        own += f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {own} data: blob: https:",
            f"media-src {own} data: blob: https:",
            f"connect-src {own}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        )
    )


def security_headers(base_url: str = "") -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", content_security_policy(base_url)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not already set them."""

    def __init__(self, app: ASGIApp, base_url: str = "") -> None:
        self.app = app
        # As ASGI carries them: lower-case names, latin-1 bytes (encoded once, not per response).
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(base_url)
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [header for header in self.headers if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
