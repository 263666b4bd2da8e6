"""automation schedules: the schedule bot's rules and firings; what tickets wait since

Revision ID: 0027_automation_schedules
Revises: 0030_webhooks
Create Date: 2026-12-08 01:00:00

schedule_rules holds a brand's time-based rules, schedule_firings each action once per ticket
and wait (unique schedule, ticket, anchor). Tickets get status_changed_at,
requester_replied_at and agent_replied_at, filled from their events and messages, and the
indexes the schedule bot's queries use. Columns are added without a batch rebuild.
"""
import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0027_automation_schedules'
down_revision = "0030_webhooks"
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_tickets_brand_status_changed', ['brand_id', 'status', 'status_changed_at']),
    ('ix_tickets_brand_status_requester', ['brand_id', 'status', 'requester_replied_at']),
    ('ix_tickets_brand_status_agent', ['brand_id', 'status', 'agent_replied_at']),
    ('ix_tickets_brand_status_updated', ['brand_id', 'status', 'updated_at']),
)


def upgrade():
    op.create_table(
        'schedule_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('business_hours', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('brand_id', 'name'),
    )
    op.create_index(
        'ix_schedule_rules_brand_position', 'schedule_rules', ['brand_id', 'position']
    )
    op.create_table(
        'schedule_firings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('schedule_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('anchor', UTCDateTime(), nullable=False),
        sa.Column('fired_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['schedule_id'], ['schedule_rules.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('schedule_id', 'ticket_id', 'anchor'),
    )
    op.create_index('ix_schedule_firings_ticket_id', 'schedule_firings', ['ticket_id'])
    op.add_column('tickets', sa.Column('status_changed_at', UTCDateTime(), nullable=True))
    op.add_column('tickets', sa.Column('requester_replied_at', UTCDateTime(), nullable=True))
    op.add_column('tickets', sa.Column('agent_replied_at', UTCDateTime(), nullable=True))
    # The last status change (or the creation); the last public message of the customer side
    # (the requester's, or from no account or a customer's account); the last public message
    # of a staff account (an agent's reply).
    op.execute(
        """
        UPDATE tickets SET
          status_changed_at = COALESCE(
            (SELECT MAX(e.created_at) FROM ticket_events e
              WHERE e.ticket_id = tickets.id AND e.kind = 'status'),
            tickets.created_at),
          agent_replied_at = (
            SELECT MAX(m.created_at) FROM ticket_messages m JOIN users u ON u.id = m.author_id
             WHERE m.ticket_id = tickets.id AND m.public = TRUE AND m.from_requester = FALSE
               AND u.role = 'staff'),
          requester_replied_at = COALESCE(
            (SELECT MAX(m.created_at) FROM ticket_messages m
              LEFT JOIN users u ON u.id = m.author_id
              WHERE m.ticket_id = tickets.id AND m.public = TRUE
                AND (m.from_requester = TRUE OR u.id IS NULL OR u.role <> 'staff')),
            tickets.created_at)
        """
    )
    for name, columns in INDEXES:
        op.create_index(name, 'tickets', columns)


def downgrade():
    for name, _columns in INDEXES:
        op.drop_index(name, table_name='tickets')
    op.drop_column('tickets', 'agent_replied_at')
    op.drop_column('tickets', 'requester_replied_at')
    op.drop_column('tickets', 'status_changed_at')
    op.drop_index('ix_schedule_firings_ticket_id', table_name='schedule_firings')
    op.drop_table('schedule_firings')
    op.drop_index('ix_schedule_rules_brand_position', table_name='schedule_rules')
    op.drop_table('schedule_rules')
