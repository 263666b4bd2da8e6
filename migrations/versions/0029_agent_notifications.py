"""agent notifications: notices per agent, their choices per kind, ticket followers

Revision ID: 0029_agent_notifications
Revises: 0026_automation_rules
Create Date: 2026-12-08 01:00:00

New tables only (users and tickets are not altered): agent_notices (counted and listed in
/agent, mailed in digests), agent_notice_preferences (no row: every kind by mail and in the
app), ticket_followers (who is told of a ticket's internal notes).
"""

import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0029_agent_notifications"
down_revision = "0026_automation_rules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agent_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("by_mail", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("mailed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agent_notices_unread", "agent_notices", ["user_id", "read_at", "in_app"])
    op.create_index(
        "ix_agent_notices_user_created", "agent_notices", ["user_id", "created_at", "id"]
    )
    op.create_index(
        "ix_agent_notices_unmailed", "agent_notices", ["by_mail", "mailed_at", "user_id"]
    )
    op.create_index("ix_agent_notices_ticket_id", "agent_notices", ["ticket_id"])
    op.create_table(
        "agent_notice_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("by_mail", sa.Boolean(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "kind"),
    )
    op.create_table(
        "ticket_followers",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "user_id"),
    )
    op.create_index("ix_ticket_followers_user_id", "ticket_followers", ["user_id"])


def downgrade():
    op.drop_index("ix_ticket_followers_user_id", table_name="ticket_followers")
    op.drop_table("ticket_followers")
    op.drop_table("agent_notice_preferences")
    op.drop_index("ix_agent_notices_ticket_id", table_name="agent_notices")
    op.drop_index("ix_agent_notices_unmailed", table_name="agent_notices")
    op.drop_index("ix_agent_notices_user_created", table_name="agent_notices")
    op.drop_index("ix_agent_notices_unread", table_name="agent_notices")
    op.drop_table("agent_notices")
