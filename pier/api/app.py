"""`create_app(settings)`: the whole HTTP surface, wired to the store, files and dispatcher."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from pier import stack
from pier.api import errors, openapi
from pier.api.deps import Services
from pier.api.limits import EdgeMiddleware
from pier.api.routes import (
    account,
    admin,
    billing,
    catalog,
    deployments,
    files,
    models,
    models_write,
    predictions,
    priority,
    push,
    stream,
    trainings,
    web,
)
from pier.api.security import SecurityHeadersMiddleware
from pier.api.signincookie import SignInCookie
from pier.auth.providers import SignIn
from pier.bootstrap import BootInfo, bootstrap, register_builtins
from pier.settings import Settings
from pier.stream import StreamHub

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, on_ready: Callable[[BootInfo, list[str]], None] | None = None
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with stack.opened(settings) as parts:
            app.state.services = Services(
                settings, parts.store, parts.files, parts.dispatcher, parts.http
            )
            app.state.streams = StreamHub.for_dispatcher(parts.dispatcher)
            app.state.webhooks = parts.webhooks
            info = await bootstrap(parts.store, settings)
            async with stack.running(parts):
                names = []
                if settings.builtin_models:
                    names = await register_builtins(
                        parts.store, parts.files.blobs, parts.dispatcher, settings, info.account
                    )
                if on_ready:
                    on_ready(info, names)
                yield

    app = FastAPI(title="Pier", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.signin = SignIn(settings)  # the sign-in providers (ValueError: bad allow_signup)
    errors.install(app)
    app.add_middleware(SignInCookie, https=settings.base_url.startswith("https:"))
    app.add_middleware(EdgeMiddleware, max_body=settings.max_request_bytes)
    app.add_middleware(errors.LastResort)  # anything that escapes gets a response
    # Added last, so outermost: every response gets the security headers, errors included.
    app.add_middleware(SecurityHeadersMiddleware, base_url=settings.base_url)
    for module in (
        predictions,
        trainings,
        models,
        models_write,
        catalog,
        push,
        files,
        stream,
        account,
        admin,
        billing,
        priority,
        deployments,
        web,
    ):
        app.include_router(module.router)
    openapi.install(app)
    return app
