"""The store's methods for people: accounts, API tokens and sign-in sessions, one-time login
codes, identities from sign-in providers, and the installation's own secrets.

A token is kept only as its SHA-256. An "api" token lasts until revoked; a "session" token (a
playground sign-in) also ends at its `expires_at`. Revoking marks the row, so what a token did
(its holds and spend) keeps pointing at something.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pier.store.access import Row
from pier.store.running import JobStore
from pier.store.tables import accounts, identities, login_codes, server_secrets, tokens
from pier.util import new_id, utcnow

API = "api"
SESSION = "session"


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_token() -> str:
    return "pier_" + secrets.token_urlsafe(32)


def _live(now: datetime) -> sa.ColumnElement[bool]:
    """Tokens that still sign in: not revoked, not expired."""
    return sa.and_(
        tokens.c.revoked_at.is_(None),
        sa.or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > now),
    )


# What the token list shows of a token (never its hash).
_TOKEN_FIELDS = (
    tokens.c.id,
    tokens.c.name,
    tokens.c.kind,
    tokens.c.created_at,
    tokens.c.last_used_at,
    tokens.c.expires_at,
)


class AccountStore(JobStore):
    def _insert_new(self, table: sa.Table, row: Row) -> sa.Insert:
        """An insert that leaves things as they are when a row with the same key exists: several
        processes starting together make the same account, token, model or version."""
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        return dialect.insert(table).values(**row).on_conflict_do_nothing()

    # -- accounts ----------------------------------------------------------------------------
    async def create_account(
        self,
        username: str,
        name: str | None = None,
        *,
        email: str | None = None,
        is_admin: bool = False,
    ) -> Row:
        """Make an account, or return the one that already has this username."""
        made = await self.new_account(username, name, email=email, is_admin=is_admin)
        if made is not None:
            return made
        existing = await self.get_account_by_username(username)  # made by another process
        assert existing is not None
        return existing

    async def new_account(
        self,
        username: str,
        name: str | None = None,
        *,
        email: str | None = None,
        is_admin: bool = False,
    ) -> Row | None:
        """Make an account; None when the username is taken."""
        row = {
            "id": new_id(),
            "username": username,
            "name": name or username,
            "type": "user",
            "webhook_secret": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
            "created_at": utcnow(),
            "email": email,
            "is_admin": is_admin,
        }
        return row if await self._write(self._insert_new(accounts, row)) else None

    async def get_account(self, account_id: str) -> Row | None:
        return await self._one(sa.select(accounts).where(accounts.c.id == account_id))

    async def get_account_by_username(self, username: str) -> Row | None:
        return await self._one(sa.select(accounts).where(accounts.c.username == username))

    async def usernames_like(self, stem: str) -> set[str]:
        """Usernames equal to `stem` or starting with `stem-` (to pick a free one)."""
        query = sa.select(accounts.c.username).where(
            sa.or_(accounts.c.username == stem, accounts.c.username.like(stem + "-%"))
        )
        return {row["username"] for row in await self._all(query)}

    async def update_account(self, account_id: str, **fields: Any) -> None:
        await self._write(accounts.update().where(accounts.c.id == account_id).values(**fields))

    # -- tokens and sessions -----------------------------------------------------------------
    async def add_token(
        self,
        account_id: str,
        token: str,
        name: str,
        *,
        kind: str = API,
        expires_at: datetime | None = None,
    ) -> Row:
        """Store a token (hashed); the row as the token list shows it."""
        row = {
            "id": new_id(),
            "account_id": account_id,
            "token_sha256": hash_secret(token),
            "name": name,
            "created_at": utcnow(),
            "kind": kind,
            "expires_at": expires_at,
        }
        await self._write(self._insert_new(tokens, row))
        return {field.name: row.get(field.name) for field in _TOKEN_FIELDS}

    async def create_token(self, account_id: str, name: str) -> str:
        """A new API token for the account; the secret, which is shown only now."""
        token = new_token()
        await self.add_token(account_id, token, name)
        return token

    async def create_session(self, account_id: str, name: str, lifetime: timedelta) -> str:
        """A playground sign-in: a token that ends after `lifetime` unless revoked first."""
        token = new_token()
        await self.add_token(account_id, token, name, kind=SESSION, expires_at=utcnow() + lifetime)
        return token

    async def account_for_token(self, token: str) -> Row | None:
        """The account a live token signs into, with the token's `token_id`, `token_kind`,
        `token_expires_at`, `token_last_used_at` and `token_priority`; None for an unknown,
        revoked or expired token."""
        query = (
            sa.select(
                accounts,
                tokens.c.id.label("token_id"),
                tokens.c.kind.label("token_kind"),
                tokens.c.expires_at.label("token_expires_at"),
                tokens.c.last_used_at.label("token_last_used_at"),
                tokens.c.priority.label("token_priority"),
            )
            .join(tokens, tokens.c.account_id == accounts.c.id)
            .where(tokens.c.token_sha256 == hash_secret(token), _live(utcnow()))
        )
        return await self._one(query)

    async def list_tokens(self, account_id: str) -> list[Row]:
        """An account's live tokens and sessions, newest first."""
        query = (
            sa.select(*_TOKEN_FIELDS)
            .where(tokens.c.account_id == account_id, _live(utcnow()))
            .order_by(tokens.c.created_at.desc(), tokens.c.id.desc())
        )
        return await self._all(query)

    async def get_token(self, account_id: str, token_id: str) -> Row | None:
        """One of the account's live tokens, with its hash (None for anyone else's)."""
        query = sa.select(*_TOKEN_FIELDS, tokens.c.token_sha256).where(
            tokens.c.id == token_id, tokens.c.account_id == account_id, _live(utcnow())
        )
        return await self._one(query)

    async def set_data_retention(self, account_id: str, seconds: float | None) -> None:
        """How long the account's API predictions keep their data (None: the server's default)."""
        await self._write(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(data_retention_seconds=seconds)
        )

    async def rename_token(self, account_id: str, token_id: str, name: str) -> bool:
        return bool(
            await self._write(
                tokens.update()
                .where(tokens.c.id == token_id, tokens.c.account_id == account_id)
                .where(_live(utcnow()))
                .values(name=name)
            )
        )

    async def revoke_token(self, account_id: str, token_id: str) -> bool:
        """End a token now; False if the account has no such live token."""
        now = utcnow()
        return bool(
            await self._write(
                tokens.update()
                .where(tokens.c.id == token_id, tokens.c.account_id == account_id)
                .where(_live(now))
                .values(revoked_at=now)
            )
        )

    def touch_token(self, token_id: str, when: datetime) -> asyncio.Future[int]:
        """Queue the write of a token's last use without waiting for it."""
        return self.db.submit(
            (tokens.update().where(tokens.c.id == token_id).values(last_used_at=when), {})
        )

    # -- one-time login codes ----------------------------------------------------------------
    async def expire_login_codes(self) -> int:
        """End every login code not used yet (a new start prints a new one); how many."""
        now = utcnow()
        return await self._write(
            login_codes.update()
            .where(login_codes.c.used_at.is_(None))
            .where(login_codes.c.expires_at > now)
            .values(expires_at=now)
        )

    async def create_login_code(self, account_id: str, ttl: timedelta) -> str:
        code = secrets.token_urlsafe(24)
        await self._write(
            login_codes.insert().values(
                code_sha256=hash_secret(code), account_id=account_id, expires_at=utcnow() + ttl
            )
        )
        return code

    async def redeem_login_code(self, code: str) -> str | None:
        """Mark a login code used and return its account id; None if unknown, used or expired."""
        now = utcnow()
        statement = (
            login_codes.update()
            .where(login_codes.c.code_sha256 == hash_secret(code))
            .where(login_codes.c.used_at.is_(None))
            .where(login_codes.c.expires_at > now)
            .values(used_at=now)
        )
        if not await self._write(statement):
            return None
        row = await self._one(
            sa.select(login_codes.c.account_id).where(
                login_codes.c.code_sha256 == hash_secret(code)
            )
        )
        return row["account_id"] if row else None

    # -- identities from sign-in providers ---------------------------------------------------
    async def get_identity(self, provider: str, issuer: str, subject: str) -> Row | None:
        return await self._one(
            sa.select(identities).where(
                identities.c.provider == provider,
                identities.c.issuer == issuer,
                identities.c.subject == subject,
            )
        )

    async def add_identity(self, row: Row) -> Row:
        """Link an identity to an account; the link that holds if another sign-in made it
        first."""
        await self._write(self._insert_new(identities, row))
        found = await self.get_identity(row["provider"], row["issuer"], row["subject"])
        assert found is not None
        return found

    async def update_identity(
        self, provider: str, issuer: str, subject: str, **fields: Any
    ) -> None:
        await self._write(
            identities.update()
            .where(
                identities.c.provider == provider,
                identities.c.issuer == issuer,
                identities.c.subject == subject,
            )
            .values(**fields)
        )

    # -- the installation's own secrets ------------------------------------------------------
    async def server_secret(self, name: str) -> str:
        """A random secret made once per installation (the first process to ask makes it)."""
        row = {"name": name, "value": secrets.token_urlsafe(48), "created_at": utcnow()}
        await self._write(self._insert_new(server_secrets, row))
        found = await self._one(
            sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
        )
        assert found is not None
        return str(found["value"])
