"""webhooks: team-chat and signed webhook targets per brand, and their delivery queue and log

Revision ID: 0030_webhooks
Revises: 0031_translation
Create Date: 2026-12-08 01:00:00

New tables only (webhook_targets, webhook_deliveries); nothing existing is rebuilt.
"""
import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0030_webhooks'
down_revision = "0031_translation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('host', sa.String(length=253), nullable=False),
        sa.Column('chat_id', sa.String(length=64), nullable=True),
        sa.Column('secret', sa.Text(), nullable=True),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('allow_private', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_targets_brand_id', 'webhook_targets', ['brand_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
        sa.Column('claimed_until', UTCDateTime(), nullable=True),
        sa.Column('delivered_at', UTCDateTime(), nullable=True),
        sa.Column('failed_at', UTCDateTime(), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['target_id'], ['webhook_targets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_deliveries_target', 'webhook_deliveries', ['target_id', 'id'])
    op.create_index(
        'ix_webhook_deliveries_due',
        'webhook_deliveries',
        ['delivered_at', 'failed_at', 'next_attempt_at'],
    )


def downgrade():
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_target', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhook_targets_brand_id', table_name='webhook_targets')
    op.drop_table('webhook_targets')
