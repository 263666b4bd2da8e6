"""organization api key, staff phone

Revision ID: 0023_org_key_allowlist
Revises: 0019
Create Date: 2026-12-07 21:36:08

The organization's API key (organization_api_keys: only the SHA-256 hash of its secret, a
prefix to recognise it by, created and last-used times) and a phone number in staff's personal
settings (users.phone). The staff IP allowlist uses security_settings.ip_allowlist (0018).
"""
from alembic import op
import sqlalchemy as sa

import kb.db


# revision identifiers, used by Alembic.
revision = '0023_org_key_allowlist'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_api_keys',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', kb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', kb.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_api_keys_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_organization_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_organization_api_keys_key_hash'))
    )
    # Plain ADD/DROP COLUMN: a batch rebuild of users on SQLite cascades into the tables that
    # point at it.
    op.add_column('users', sa.Column('phone', sa.String(length=40), nullable=True))


def downgrade():
    op.drop_column('users', 'phone')

    op.drop_table('organization_api_keys')
