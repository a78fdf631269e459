"""deployments

Revision ID: 0014
Revises: 0013

`deployments` (a name its owner runs predictions through) and `deployment_releases` (each
change of one, numbered from 1, never changed afterwards); `predictions.deployment` names the
deployment a prediction was made through.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deployment", sa.String(length=200), nullable=True))
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("current_release", sa.Integer, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_deployments_owner_name"),
    )
    op.create_index("ix_deployments_account", "deployments", ["account_id", "owner", "name"])
    op.create_table(
        "deployment_releases",
        sa.Column(
            "deployment_id", sa.String(32), sa.ForeignKey("deployments.id"), primary_key=True
        ),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(64), nullable=False),
        sa.Column("hardware", sa.String(64), nullable=False),
        sa.Column("min_instances", sa.Integer, nullable=False),
        sa.Column("max_instances", sa.Integer, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("created_by", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_releases")
    op.drop_index("ix_deployments_account", table_name="deployments")
    op.drop_table("deployments")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_column("deployment")
