"""fairness: priority lanes, idempotency keys

Revision ID: 0010
Revises: 0009

`accounts.priority` (high, normal or low; normal for everyone so far) and `tokens.priority`
(NULL: the account's). People's predictions now wait in three lanes by priority, so the lanes are
numbered again: normal moves from 0 to 1, the background lane from 1 to 3 (high is 0, low 2).
Jobs already waiting in a Redis queue keep the stream they are in until they are claimed.
`idempotency_keys`: the Idempotency-Key of creates, kept 24 hours. An index on predictions by
account and status counts an account's queued predictions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.String(length=8), server_default="normal", nullable=False)
        )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.String(length=8), nullable=True))
    op.execute("UPDATE predictions SET lane = 3 WHERE lane = 1")
    op.execute("UPDATE predictions SET lane = 1 WHERE lane = 0")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.alter_column("lane", existing_type=sa.Integer(), server_default="1")
    op.create_index("ix_predictions_account_status", "predictions", ["account_id", "status"])
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("prediction_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_predictions_account_status", table_name="predictions")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.alter_column("lane", existing_type=sa.Integer(), server_default="0")
    op.execute("UPDATE predictions SET lane = 0 WHERE lane IN (0, 1, 2)")
    op.execute("UPDATE predictions SET lane = 1 WHERE lane = 3")
    # Not through a copy of the table: other tables refer to these (SQLite 3.35 drops a column).
    op.drop_column("tokens", "priority")
    op.drop_column("accounts", "priority")
