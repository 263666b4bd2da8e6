"""customer notifications: per brand, which notifications are on, and their wording per locale

Revision ID: 0028_customer_notifications
Revises: 0027_automation_schedules
Create Date: 2026-12-08 01:00:00

customer_notifications: a brand's switch per kind (received, agent_replied, pending_reminder,
solved, closed); notification_templates: its subject and body per kind and locale. New tables
only: no existing table is rebuilt.
"""
import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0028_customer_notifications'
down_revision = "0027_automation_schedules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'customer_notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('brand_id', 'kind', name='uq_customer_notifications'),
    )
    op.create_table(
        'notification_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('brand_id', 'kind', 'locale', name='uq_notification_templates'),
    )


def downgrade():
    op.drop_table('notification_templates')
    op.drop_table('customer_notifications')
