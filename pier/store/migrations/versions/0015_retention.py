"""retention: when an API prediction's data was removed, and each account's retention period

Revision ID: 0015
Revises: 0014

`predictions.data_removed_at`: set when the retention period removed the prediction's input,
output, logs and files (the API then says `data_removed: true`). `accounts.data_retention_seconds`:
an account's own period; NULL uses the `api_data_retention` setting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("predictions", sa.Column("data_removed_at", sa.DateTime(timezone=True)))
    op.add_column("accounts", sa.Column("data_retention_seconds", sa.Float, nullable=True))


def downgrade() -> None:
    # Not through a copy of the tables: other tables refer to them (SQLite 3.35 drops a column).
    op.drop_column("accounts", "data_retention_seconds")
    op.drop_column("predictions", "data_removed_at")
