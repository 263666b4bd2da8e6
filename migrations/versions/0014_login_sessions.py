"""login sessions kept on the server

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:00:00

Each sign-in gets a login_sessions row (portal.desk.models.LoginSession) holding the SHA-256 of
a random key that the session and remember-me cookies carry: sign-out deletes the row, so a
cookie copied before it no longer works; a password change deletes every row of the account.
Sessions made before this migration carry no key and end: everyone signs in once more.
"""

import sqlalchemy as sa
from alembic import op

import kb.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", kb.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kb.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_login_sessions_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")
