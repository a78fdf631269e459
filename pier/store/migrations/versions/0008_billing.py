"""billing: prices, balances, holds and the ledger

Revision ID: 0008
Revises: 0007

Money in integer micro-dollars. Every existing account gets an empty balance row; tokens get an
optional monthly limit with what they spent and hold this month.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("per_second_micros", sa.BigInteger, nullable=True),
        sa.Column("per_run_micros", sa.BigInteger, nullable=True),
        sa.Column("per_unit_micros", sa.BigInteger, nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("available_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("held_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("spent_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("month", sa.String(7), nullable=False, server_default=""),
        sa.Column("month_spent_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("monthly_limit_micros", sa.BigInteger, nullable=True),
        sa.Column("low_balance_micros", sa.BigInteger, nullable=True),
        sa.Column("alert_webhook", sa.Text, nullable=True),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "holds",
        sa.Column("prediction_id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=True),
        sa.Column("amount_micros", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("cost_micros", sa.BigInteger, nullable=True),
        sa.Column("price", sa.JSON, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("settled_at", UTC_TS, nullable=True),
    )
    op.create_index("ix_holds_status", "holds", ["status", "created_at"])
    op.create_table(
        "ledger",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("prediction_id", sa.String(32), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("debit", sa.String(80), nullable=False),
        sa.Column("credit", sa.String(80), nullable=False),
        sa.Column("amount_micros", sa.BigInteger, nullable=False),
        sa.Column("memo", sa.Text, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_index("ix_ledger_account_created", "ledger", ["account_id", "created_at", "id"])
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("monthly_limit_micros", sa.BigInteger, nullable=True))
        batch_op.add_column(sa.Column("month", sa.String(7), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("month_spent_micros", sa.BigInteger, nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("held_micros", sa.BigInteger, nullable=False, server_default="0")
        )
    op.execute("INSERT INTO balances (account_id, updated_at) SELECT id, created_at FROM accounts")


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        for name in ("held_micros", "month_spent_micros", "month", "monthly_limit_micros"):
            batch_op.drop_column(name)
    op.drop_table("ledger")
    op.drop_table("holds")
    op.drop_table("balances")
    op.drop_table("prices")
