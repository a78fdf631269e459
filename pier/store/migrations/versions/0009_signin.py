"""sign-in: identities, sessions, token names and last use

Revision ID: 0009
Revises: 0008

`accounts.email` and `accounts.is_admin` (the account `pier serve` made first is the admin).
`tokens.kind` ("api" or "session"), `expires_at`, `revoked_at` and `last_used_at`.
`identities`: who a sign-in provider says a person is, and their account. `server_secrets`:
random keys made once per installation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE accounts SET is_admin = true WHERE username = 'admin'")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="api", nullable=False)
        )
        batch_op.add_column(sa.Column("expires_at", UTC_TS, nullable=True))
        batch_op.add_column(sa.Column("revoked_at", UTC_TS, nullable=True))
        batch_op.add_column(sa.Column("last_used_at", UTC_TS, nullable=True))
        batch_op.create_index("ix_tokens_account", ["account_id", "created_at"], unique=False)
    op.create_table(
        "identities",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("login", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("last_sign_in_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("provider", "issuer", "subject"),
    )
    op.create_index("ix_identities_account", "identities", ["account_id"], unique=False)
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_index("ix_identities_account", table_name="identities")
    op.drop_table("identities")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_tokens_account")
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("kind")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
        batch_op.drop_column("email")
