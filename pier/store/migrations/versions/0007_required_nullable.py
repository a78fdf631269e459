"""inputs a request must name even though they may be null (cog fidelity)

Revision ID: 0007
Revises: 0006

`required_nullable`: the names of a version's inputs typed `T | None` without a default. The
OpenAPI schema (as Cog writes it) leaves them out of `required`, yet Cog answers 422 when a
request leaves one out; `null` is a valid value. NULL for versions added before this column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("required_nullable", sa.JSON(none_as_null=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("required_nullable")
