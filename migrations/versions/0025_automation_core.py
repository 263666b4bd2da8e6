"""automation core: bots named on ticket events, business hours per brand

Revision ID: 0025_automation_core
Revises: 0024_sealed_mailbox_passwords
Create Date: 2026-12-08 01:00:00

ticket_events.actor_name names a rule or schedule that acted (it has no account); the table
business_hours holds a brand's working week and holidays. Columns are added without a batch
rebuild (tickets and their events are never rebuilt on SQLite).
"""
import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0025_automation_core'
down_revision = '0024_sealed_mailbox_passwords'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ticket_events', sa.Column('actor_name', sa.String(length=200), nullable=True))
    op.create_table(
        'business_hours',
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('week', sa.JSON(), nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('brand_id'),
    )


def downgrade():
    op.drop_table('business_hours')
    op.drop_column('ticket_events', 'actor_name')
