"""Sign-in providers for the tests, speaking the real protocols over real HTTP on free ports.

`FakeGitHub`: GitHub's OAuth 2 web flow (authorize redirect with code and state, the token
endpoint, then `/user`, `/user/emails` and `/user/orgs` with the access token, scopes enforced).
`FakeOIDC`: an OpenID Connect provider (discovery document, authorize, token endpoint with an
RS256 ID token carrying the nonce, userinfo, and the signing key at jwks_uri).

Whoever is "signed in at the provider" (`signed_in_as`) is sent straight back, as GitHub does
for an app the person already authorized.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "pier-test-client"
CLIENT_SECRET = "pier-test-secret"


@dataclass
class User:
    id: int
    login: str
    name: str = ""
    emails: list[dict[str, Any]] = field(default_factory=list)  # GitHub's /user/emails items
    orgs: list[str] = field(default_factory=list)


class _Server:
    """A Starlette app served by uvicorn in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, routes: list[Route]) -> None:
        self.app = Starlette(routes=routes)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],), daemon=True)
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.signed_in_as: Any = None  # a User (GitHub) or a Person (OpenID Connect)

    def start(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the test provider did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def client_ok(self, request: Request, form: Any) -> bool:
        """Client authentication: HTTP Basic (client_secret_basic) or form fields (post)."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            pair = base64.b64decode(header[6:]).decode()
            return pair == f"{CLIENT_ID}:{CLIENT_SECRET}"
        return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET

    def authorize(self, request: Request, **extra: Any) -> Response:
        query = request.query_params
        if query.get("client_id") != CLIENT_ID or not query.get("redirect_uri"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        user = self.signed_in_as
        if user is None:
            target = (
                query["redirect_uri"]
                + "?"
                + urlencode(
                    {
                        "error": "access_denied",
                        "error_description": "nobody signed in",
                        **_state(query),
                    }
                )
            )
            return RedirectResponse(target, status_code=302)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "user": user,
            "redirect_uri": query["redirect_uri"],
            "scope": query.get("scope", ""),
            **extra,
        }
        target = query["redirect_uri"] + "?" + urlencode({"code": code, **_state(query)})
        return RedirectResponse(target, status_code=302)

    async def redeem(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        form = await request.form()
        grant = self.codes.pop(str(form.get("code")), None)  # a code works once
        if not self.client_ok(request, form):
            return None, JSONResponse({"error": "invalid_client"}, status_code=401)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return None, JSONResponse({"error": "invalid_grant"}, status_code=400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = grant
        return {"access_token": token, **grant}, None

    def bearer(self, request: Request) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        return self.tokens.get(token.strip())


def _state(query: Any) -> dict[str, str]:
    return {"state": query["state"]} if "state" in query else {}


class FakeGitHub(_Server):
    def __init__(self) -> None:
        super().__init__(
            [
                Route("/login/oauth/authorize", self.authorize),
                Route("/login/oauth/access_token", self.access_token, methods=["POST"]),
                Route("/api/v3/user", self.user),
                Route("/api/v3/user/emails", self.emails),
                Route("/api/v3/user/orgs", self.orgs),
            ]
        )

    @property
    def settings(self) -> dict[str, str]:
        """Pier's settings for this server (as GitHub Enterprise: the API under /api/v3)."""
        return {
            "github_client_id": CLIENT_ID,
            "github_client_secret": CLIENT_SECRET,
            "github_url": self.url,
            "github_api_url": self.url + "/api/v3",
        }

    async def access_token(self, request: Request) -> Response:
        if "authorization" in request.headers:  # GitHub takes the secret as form fields
            return JSONResponse({"error": "incorrect_client_credentials"})
        grant, refused = await self.redeem(request)
        if refused:
            return refused
        assert grant is not None
        body = {"access_token": grant["access_token"], "token_type": "bearer"}
        return JSONResponse({**body, "scope": grant["scope"].replace(" ", ",")})

    def user(self, request: Request) -> Response:
        grant = self.bearer(request)
        if grant is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        user: User = grant["user"]
        public = next((e["email"] for e in user.emails if e.get("primary")), None)
        return JSONResponse(
            {"id": user.id, "login": user.login, "name": user.name, "email": public}
        )

    def emails(self, request: Request) -> Response:
        grant = self.bearer(request)
        if grant is None or "user:email" not in grant["scope"].split():
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return JSONResponse(grant["user"].emails)

    def orgs(self, request: Request) -> Response:
        grant = self.bearer(request)
        if grant is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        if "read:org" not in grant["scope"].split():
            return JSONResponse([])  # GitHub lists only public memberships without read:org
        return JSONResponse([{"login": org, "id": n} for n, org in enumerate(grant["user"].orgs)])


@dataclass
class Person:
    """Someone at the OpenID Connect provider."""

    sub: str
    preferred_username: str
    name: str = ""
    email: str | None = None
    email_verified: bool = False


class FakeOIDC(_Server):
    def __init__(self) -> None:
        super().__init__(
            [
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize_code),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
                Route("/jwks", self.jwks),
            ]
        )
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.forger: RSAKey | None = None  # set: ID tokens are signed with this key instead

    @property
    def settings(self) -> dict[str, str]:
        return {
            "oidc_issuer": self.url,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_name": "Example ID",
        }

    def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "userinfo_endpoint": self.url + "/userinfo",
                "jwks_uri": self.url + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    def authorize_code(self, request: Request) -> Response:
        if request.query_params.get("response_type") != "code":
            return JSONResponse({"error": "unsupported_response_type"}, status_code=400)
        return self.authorize(request, nonce=request.query_params.get("nonce"))

    async def token(self, request: Request) -> Response:
        grant, refused = await self.redeem(request)
        if refused:
            return refused
        assert grant is not None
        person: Person = grant["user"]
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": person.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **self.claims(person),
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.forger or self.key)
        return JSONResponse(
            {
                "access_token": grant["access_token"],
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    @staticmethod
    def claims(person: Person) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "preferred_username": person.preferred_username,
            "name": person.name,
        }
        if person.email:
            claims.update(email=person.email, email_verified=person.email_verified)
        return claims

    def userinfo(self, request: Request) -> Response:
        grant = self.bearer(request)
        if grant is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        person: Person = grant["user"]
        return JSONResponse({"sub": person.sub, **self.claims(person)})

    def jwks(self, _request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})
