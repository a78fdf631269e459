"""The cookie that carries a sign-in in progress (state, nonce, where to go after), for /auth
only.

Starlette's SessionMiddleware signs it with a key made once per installation and kept in the
database (so every API process of a cluster accepts the cookies of the others). Requests to
anything but /auth/ never touch it: the API itself stays cookie-free.
"""

from __future__ import annotations

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "pier_signin"
PREFIX = "/auth/"
LIFETIME = 600  # seconds a sign-in may take at the provider


class SignInCookie:
    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https
        self.sessions: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if self.sessions is None:
            store = scope["app"].state.services.store
            self.sessions = SessionMiddleware(
                self.app,
                secret_key=await store.server_secret("signin-cookie"),
                session_cookie=COOKIE,
                max_age=LIFETIME,
                path="/auth",
                same_site="lax",
                https_only=self.https,
            )
        await self.sessions(scope, receive, send)
