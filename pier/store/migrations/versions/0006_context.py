"""request context on predictions (cog fidelity)

Revision ID: 0006
Revises: 0005

`context`: the string key/values given with a create request, which the model reads from
`current_scope().context` (next to the prediction's id), on whichever machine runs it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_column("context")
