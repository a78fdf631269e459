"""Sign in with GitHub or OpenID Connect: `/auth/{provider}/login` sends the browser to the
provider, `/auth/{provider}/callback` brings it back.

The state of a sign-in in progress (Authlib's state and nonce, and where to go afterwards) lives
in a short-lived signed cookie scoped to /auth (pier/api/signincookie.py). At the callback the
person lands in their account (pier/auth/signin.py), and the playground is handed a one-time
login code that lasts two minutes, which it trades at POST /auth/login for a session: no
lasting secret ever appears in an address.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from urllib.parse import quote

import httpx
from authlib.common.errors import AuthlibBaseError
from fastapi import APIRouter, Request
from joserfc.errors import JoseError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pier.api.deps import ServicesDep
from pier.api.errors import not_found
from pier.api.jsonresponse import json_response
from pier.auth.providers import OAuthError, ProviderError, SignIn
from pier.auth.signin import NotAdmitted, sign_in

log = logging.getLogger(__name__)
router = APIRouter()
HANDOFF_TTL = timedelta(minutes=2)


def signin(request: Request) -> SignIn:
    return request.app.state.signin  # type: ignore[no-any-return]


def next_path(value: str | None) -> str:
    """A path on this site to go to after signing in ("/" for anything else)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 or ch.isspace() for ch in value) or value.startswith("/login"):
        return "/"
    return value


@router.get("/auth/providers", include_in_schema=False)
async def providers(request: Request) -> Response:
    """The sign-in buttons the playground shows."""
    listed = [
        {"id": p.id, "name": p.name, "login_url": f"/auth/{p.id}/login"}
        for p in signin(request).providers.values()
    ]
    return json_response({"providers": listed})


@router.get("/auth/{provider}/login", include_in_schema=False)
async def start(provider: str, request: Request, svc: ServicesDep) -> Response:
    client = signin(request).client(provider)
    if client is None:
        raise not_found("Sign-in provider")
    request.session["next"] = next_path(request.query_params.get("next"))
    callback = f"{svc.base_url}/auth/{provider}/callback"
    try:
        return await client.authorize_redirect(request, callback)  # type: ignore[no-any-return]
    except (httpx.HTTPError, OAuthError, ValueError, RuntimeError) as exc:
        log.warning("sign-in with %s could not start: %s", provider, exc)
        name = signin(request).providers[provider].name
        return page(502, "Sign-in is not available", f"{name} could not be reached. Try again.")


@router.get("/auth/{provider}/callback", include_in_schema=False)
async def callback(provider: str, request: Request, svc: ServicesDep) -> Response:
    methods = signin(request)
    if methods.client(provider) is None:
        raise not_found("Sign-in provider")
    name = methods.providers[provider].name
    try:
        profile = await methods.profile(provider, request)
    except OAuthError as exc:
        why = exc.description or exc.error or "the provider refused"
        return page(400, "Sign-in did not finish", f"{name} said: {why}. Try again.")
    except (httpx.HTTPError, ProviderError, ValueError, KeyError, TypeError) as exc:
        log.warning("sign-in with %s failed: %r", provider, exc)
        return page(502, "Sign-in did not finish", f"{name} did not answer as expected.")
    except (AuthlibBaseError, JoseError) as exc:  # an ID token that does not check out
        log.warning("sign-in with %s was not accepted: %r", provider, exc)
        return page(502, "Sign-in did not finish", f"{name} sent a sign-in that did not check out.")
    try:
        account = await sign_in(svc.store, methods.rules, profile)
    except NotAdmitted as exc:
        return page(403, "No account for you here yet", str(exc))
    code = await svc.store.create_login_code(account["id"], HANDOFF_TTL)
    target = f"/login?code={code}"
    after = next_path(request.session.pop("next", None))
    if after != "/":
        target += "&next=" + quote(after, safe="")
    return RedirectResponse(target, status_code=303)


def page(status: int, title: str, message: str) -> Response:
    """A small page of the site's own look that says what happened, with a way back."""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Pier</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/app.css"></head>
<body><header class="topbar"><nav class="topbar-inner" aria-label="Main">
<a class="brand" href="/" aria-label="Pier, all models">
<img src="/static/favicon.svg" alt="" width="24" height="24"><span>Pier</span></a></nav></header>
<main id="main"><div class="login-page"><div class="card login-card">
<h1>{html.escape(title)}</h1>
<p role="alert">{html.escape(message)}</p>
<p><a class="btn" href="/login">Back to sign-in</a></p>
</div></div></main></body></html>
"""
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
