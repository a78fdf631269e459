"""models api: a model's hardware and its links, set through POST/PATCH /v1/models

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LINKS = ("github_url", "paper_url", "license_url", "cover_image_url")


def upgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hardware", sa.String(64), nullable=True))
        for name in LINKS:
            batch_op.add_column(sa.Column(name, sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        for name in reversed(LINKS):
            batch_op.drop_column(name)
        batch_op.drop_column("hardware")
