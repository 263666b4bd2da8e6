"""ticket export and attachment retention

Revision ID: 0020_export_retention
Revises: 0021_block_trash
Create Date: 2026-12-07 21:34:37

Each brand's attachment retention (brands.attachment_retention_days, None: files kept forever),
a ticket file's removal (ticket_files.removed_at and removed_reason: the row stays so the
conversation can say the file was removed), and the export's index (one brand's tickets by
creation time, walked in keyset batches).
"""
from alembic import op
import sqlalchemy as sa

import kb.db


# revision identifiers, used by Alembic.
revision = '0020_export_retention'
down_revision = '0021_block_trash'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN: a batch rebuild of brands on SQLite would cascade into every
    # table that points at it.
    op.add_column('brands', sa.Column('attachment_retention_days', sa.Integer(), nullable=True))

    op.add_column('ticket_files', sa.Column('removed_at', kb.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('ticket_files', sa.Column('removed_reason', sa.String(length=32), nullable=True))

    # Not in a batch: tickets carries SQLite triggers (ticket_counts) a table copy would lose.
    op.create_index('ix_tickets_brand_created', 'tickets', ['brand_id', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_brand_created', table_name='tickets')

    op.drop_column('ticket_files', 'removed_reason')
    op.drop_column('ticket_files', 'removed_at')

    op.drop_column('brands', 'attachment_retention_days')
