"""The sign-in providers this server is set up for, as Authlib clients, and who a finished
sign-in says the person is.

GitHub speaks OAuth 2 only (no ID token): the person comes from its REST API (`/user`, the
verified addresses of `/user/emails`, and `/user/orgs` when an `allow_signup` rule names an
organization). An OpenID Connect provider is found through its discovery document; the person
comes from the signed ID token (checked against the provider's published keys, nonce included)
and its userinfo endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request

from pier.auth.signup import Profile, Rule, needs_orgs, parse_rules
from pier.settings import Settings

GITHUB = "github"
OIDC = "oidc"
TIMEOUT = 15.0  # seconds for each call to a provider
GITHUB_JSON = {"Accept": "application/vnd.github+json"}


class ProviderError(Exception):
    """A provider answered something a sign-in cannot go on with."""


@dataclass(frozen=True)
class Provider:
    id: str  # "github" or "oidc": the path under /auth/
    name: str  # for the button: "Sign in with {name}"
    issuer: str  # what identities from it are filed under


class SignIn:
    """The configured providers and the `allow_signup` rules, for one server."""

    def __init__(self, settings: Settings) -> None:
        self.rules: tuple[Rule, ...] = parse_rules(settings.allow_signup)  # ValueError if bad
        self.oauth = OAuth()
        self.providers: dict[str, Provider] = {}
        if settings.github_client_id:
            web = settings.github_url.rstrip("/")
            scopes = "read:user user:email" + (" read:org" if needs_orgs(self.rules) else "")
            self.oauth.register(
                GITHUB,
                client_id=settings.github_client_id,
                client_secret=settings.github_client_secret,
                authorize_url=f"{web}/login/oauth/authorize",
                access_token_url=f"{web}/login/oauth/access_token",
                api_base_url=settings.github_api_url.rstrip("/") + "/",
                client_kwargs={
                    "scope": scopes,
                    "timeout": TIMEOUT,
                    # GitHub documents the client's id and secret as form fields
                    "token_endpoint_auth_method": "client_secret_post",
                },
            )
            self.providers[GITHUB] = Provider(GITHUB, "GitHub", web)
        if settings.oidc_issuer:
            issuer = settings.oidc_issuer.rstrip("/")
            self.oauth.register(
                OIDC,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret,
                server_metadata_url=f"{issuer}/.well-known/openid-configuration",
                client_kwargs={"scope": "openid email profile", "timeout": TIMEOUT},
            )
            name = settings.oidc_name or urlsplit(issuer).hostname or "OpenID Connect"
            self.providers[OIDC] = Provider(OIDC, name, issuer)

    def client(self, provider: str) -> Any:
        """The Authlib client of a configured provider, or None."""
        return self.oauth.create_client(provider) if provider in self.providers else None

    async def profile(self, provider: str, request: Request) -> Profile:
        """Finish a sign-in at the callback: trade the code for a token (state checked), then
        find out who signed in. OAuthError, httpx.HTTPError or ProviderError when it fails."""
        client = self.client(provider)
        token = await client.authorize_access_token(request)
        if provider == GITHUB:
            return await self._github(client, token)
        return await self._oidc(client, token)

    async def _github(self, client: Any, token: dict[str, Any]) -> Profile:
        user = await _get_json(client, "user", token)
        if not isinstance(user, dict) or "id" not in user or not user.get("login"):
            raise ProviderError("GitHub's /user did not name the user")
        emails = _listed(await _get_json(client, "user/emails", token))
        verified = [
            e for e in emails if isinstance(e, dict) and e.get("verified") and e.get("email")
        ]
        verified.sort(key=lambda e: not e.get("primary"))  # the primary address first
        orgs: list[Any] = []
        if needs_orgs(self.rules):
            orgs = _listed(await _get_json(client, "user/orgs", token, params={"per_page": 100}))
        return Profile(
            provider=GITHUB,
            issuer=self.providers[GITHUB].issuer,
            subject=str(user["id"]),
            login=str(user["login"]),
            name=user.get("name") or None,
            verified_emails=tuple(str(e["email"]) for e in verified),
            orgs=tuple(str(o["login"]) for o in orgs if isinstance(o, dict) and o.get("login")),
        )

    async def _oidc(self, client: Any, token: dict[str, Any]) -> Profile:
        claims = token.get("userinfo")
        if not claims or not claims.get("sub"):
            raise ProviderError("the provider sent no ID token (is the openid scope allowed?)")
        claims = dict(claims)
        metadata = await client.load_server_metadata()
        if metadata.get("userinfo_endpoint"):
            extra = await client.userinfo(token=token)
            if extra.get("sub") == claims["sub"]:  # the spec's rule: a userinfo of someone else
                claims = {**extra, **claims}  # is ignored; the signed token wins
        email = claims.get("email")
        verified = (
            email if isinstance(email, str) and claims.get("email_verified") is True else None
        )
        return Profile(
            provider=OIDC,
            issuer=self.providers[OIDC].issuer,
            subject=str(claims["sub"]),
            login=claims.get("preferred_username") or claims.get("nickname") or None,
            name=claims.get("name") or None,
            verified_emails=(verified,) if verified else (),
        )


async def _get_json(client: Any, path: str, token: dict[str, Any], **kwargs: Any) -> Any:
    response = await client.get(path, token=token, headers=GITHUB_JSON, **kwargs)
    if response.status_code != 200:
        raise ProviderError(f"GitHub answered {response.status_code} to /{path}")
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(f"GitHub's /{path} did not answer JSON") from exc


def _listed(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ProviderError("GitHub answered something other than a list")
    return value


__all__ = ["GITHUB", "OIDC", "OAuthError", "Provider", "ProviderError", "SignIn"]
