"""prediction source, seed and tweak lineage (playground)

Revision ID: 0005
Revises: 0004

`tweaked_from`: the prediction a tweak started from. `lane`: the queue lane a prediction waits
in (0 for people; higher lanes, such as the first-start examples', are claimed only when the
lower ones are empty). The seed a model reports lives in the prediction's metrics.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tweaked_from", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lane", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_predictions_account_source", ["account_id", "source", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index("ix_predictions_account_source")
        batch_op.drop_column("lane")
        batch_op.drop_column("tweaked_from")
