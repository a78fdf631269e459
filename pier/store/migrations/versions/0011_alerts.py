"""alerts: the billing alerts each account has been sent

Revision ID: 0011
Revises: 0010

One row per account, kind of alert and period; its key is what keeps an alert from going out
twice, even from two processes at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts_sent",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("period", sa.String(64), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alerts_sent")
