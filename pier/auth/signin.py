"""The account a sign-in lands in: the one its identity is linked to, or a new one when
`allow_signup` admits the person."""

from __future__ import annotations

import re

from pier.auth.signup import Profile, Rule, admitting_rule, refusal
from pier.store import Row, Store
from pier.util import utcnow

# Names a new account never gets: the admin's, the built-in models' owner, and words that read
# as parts of the site.
RESERVED = frozenset({"admin", "pier", "api", "auth", "v1", "login", "account", "static", "files"})
MAX_USERNAME = 39  # as long as a GitHub login may be
ATTEMPTS = 20


class NotAdmitted(Exception):
    """The person has no account here and `allow_signup` does not let them make one."""


def username_stem(profile: Profile) -> str:
    """A username made from what the provider calls the person: lowercase letters, digits,
    '-' and '_'."""
    email = profile.email.split("@", 1)[0] if profile.email else None
    for candidate in (profile.login, email, profile.name):
        stem = re.sub(r"[^a-z0-9_-]+", "-", (candidate or "").lower()).strip("-_")
        stem = stem[:MAX_USERNAME].rstrip("-_")
        if stem:
            return stem
    return "user"


def _free_name(stem: str, taken: set[str]) -> str:
    if stem not in taken and stem not in RESERVED:
        return stem
    number = 2
    while True:
        suffix = f"-{number}"
        name = stem[: MAX_USERNAME - len(suffix)] + suffix
        if name not in taken:
            return name
        number += 1


async def sign_in(store: Store, rules: tuple[Rule, ...], profile: Profile) -> Row:
    """The account this person signs into; NotAdmitted (with why) when there is none and they
    may not make one. The account's e-mail is filled in from a verified address when empty."""
    now = utcnow()
    identity = await store.get_identity(profile.provider, profile.issuer, profile.subject)
    if identity is None:
        if admitting_rule(rules, profile) is None:
            raise NotAdmitted(refusal(rules, profile))
        account = await _new_account(store, profile)
        identity = await store.add_identity(
            {
                "provider": profile.provider,
                "issuer": profile.issuer,
                "subject": profile.subject,
                "account_id": account["id"],
                "login": profile.login,
                "email": profile.email,
                "created_at": now,
                "last_sign_in_at": now,
            }
        )
    else:
        await store.update_identity(
            profile.provider,
            profile.issuer,
            profile.subject,
            login=profile.login,
            email=profile.email,
            last_sign_in_at=now,
        )
    found = await store.get_account(identity["account_id"])
    assert found is not None
    account = found
    if not account.get("email") and profile.email:
        await store.update_account(account["id"], email=profile.email)
        account["email"] = profile.email
    return account


async def _new_account(store: Store, profile: Profile) -> Row:
    stem = username_stem(profile)
    for _ in range(ATTEMPTS):  # another sign-in may take the name between look and insert
        name = _free_name(stem, await store.usernames_like(stem))
        account = await store.new_account(name, profile.name or name, email=profile.email)
        if account is not None:
            return account
    raise RuntimeError(f"no free username for {stem!r} after {ATTEMPTS} tries")
