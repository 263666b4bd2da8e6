"""automation rules: the rule bot's ordered rules per brand

Revision ID: 0026_automation_rules
Revises: 0025_automation_core
Create Date: 2026-12-08 01:10:00

automation_rules holds each brand's rules (events, conditions and actions as JSON), in order.
"""

import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0026_automation_rules"
down_revision = "0025_automation_core"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "automation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("match", sa.String(length=8), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_id", "name", name="uq_automation_rules_brand_name"),
    )
    op.create_index(
        "ix_automation_rules_brand_position", "automation_rules", ["brand_id", "position"]
    )


def downgrade():
    op.drop_index("ix_automation_rules_brand_position", table_name="automation_rules")
    op.drop_table("automation_rules")
