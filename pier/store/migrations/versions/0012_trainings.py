"""trainings: a job's kind and destination, a version's source and weights

Revision ID: 0012
Revises: 0011

A training is a row of `predictions` with `kind = 'training'` and the id of its destination
model; every existing row is a prediction. A version records where it came from (`source`) and
the weights its setup() gets (`weights`); rows from before stay NULL, which reads as a push.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="prediction")
        )
        batch_op.add_column(sa.Column("destination", sa.String(32), nullable=True))
    op.create_index(
        "ix_predictions_account_kind",
        "predictions",
        ["account_id", "kind", "created_at", "id"],
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("weights", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("weights")
        batch_op.drop_column("source")
    op.drop_index("ix_predictions_account_kind", table_name="predictions")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_column("destination")
        batch_op.drop_column("kind")
