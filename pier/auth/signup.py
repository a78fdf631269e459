"""`allow_signup`: who may make an account by signing in.

A comma-separated list of rules: `github:USER` (that GitHub login), `github-org:ORG` (a member
of that GitHub organization), `email:DOMAIN` (a verified e-mail address in that domain) or `*`
(anyone). Empty admits nobody new; people who already have an account always sign in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = ("github", "github-org", "email")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Rule:
    kind: str  # "*", "github", "github-org" or "email"
    value: str = ""  # lowercased

    def __str__(self) -> str:
        return "*" if self.kind == "*" else f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Profile:
    """What a provider says about the person signing in."""

    provider: str  # "github" or "oidc"
    issuer: str  # github_url, or the OpenID Connect issuer
    subject: str  # the provider's stable id of the person
    login: str | None = None  # GitHub login or preferred_username
    name: str | None = None
    verified_emails: tuple[str, ...] = ()  # the first is the one to keep on the account
    orgs: tuple[str, ...] = field(default=())  # GitHub organizations, when asked for

    @property
    def email(self) -> str | None:
        return self.verified_emails[0] if self.verified_emails else None


def parse_rules(text: str) -> tuple[Rule, ...]:
    """The rules of an `allow_signup` value; ValueError names a rule that is not one."""
    rules = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part == "*":
            rules.append(Rule("*"))
            continue
        kind, sep, value = part.partition(":")
        kind, value = kind.strip().lower(), value.strip().lower().lstrip("@")
        if not sep or kind not in KINDS or not _NAME.match(value):
            raise ValueError(
                f"allow_signup: {part!r} is not a rule; use github:USER, github-org:ORG, "
                "email:DOMAIN or *, separated by commas"
            )
        rules.append(Rule(kind, value))
    return tuple(rules)


def needs_orgs(rules: tuple[Rule, ...]) -> bool:
    """Whether some rule asks about GitHub organizations (only then are they fetched)."""
    return any(rule.kind == "github-org" for rule in rules)


def admitting_rule(rules: tuple[Rule, ...], profile: Profile) -> Rule | None:
    """The first rule that lets this person make an account, or None."""
    domains = {email.rsplit("@", 1)[-1].lower() for email in profile.verified_emails}
    for rule in rules:
        if rule.kind == "*":
            return rule
        if rule.kind == "email" and rule.value in domains:
            return rule
        if profile.provider != "github":
            continue
        if rule.kind == "github" and (profile.login or "").lower() == rule.value:
            return rule
        if rule.kind == "github-org" and rule.value in {org.lower() for org in profile.orgs}:
            return rule
    return None


def refusal(rules: tuple[Rule, ...], profile: Profile) -> str:
    """Why a person without an account may not make one here, in words for them."""
    who = f"GitHub user {profile.login}" if profile.provider == "github" else "your account"
    if not rules:
        return (
            "This Pier server does not let new people make an account by signing in. Ask its "
            "operator to add you to allow_signup, or to make you an account "
            "(pier accounts create)."
        )
    unverified = "" if profile.verified_emails else " No verified e-mail address was shared."
    return (
        f"This Pier server admits new accounts by these rules: {', '.join(map(str, rules))}; "
        f"{who} matches none of them.{unverified} Ask its operator to add you."
    )
