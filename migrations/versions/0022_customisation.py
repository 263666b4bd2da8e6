"""customisation: brand theme, mail templates, back-office branding

Revision ID: 0022_customisation
Revises: 0020_export_retention
Create Date: 2026-12-07 21:34:02

Each brand's uploaded logo and favicon (stored by content hash under the uploads folder) and its
help center's header links; each brand's mail header, logo choice and footer per locale
(mail_templates); and the back office's top-bar name and logo per organization.

"""
from alembic import op
import sqlalchemy as sa

import kb.db


# revision identifiers, used by Alembic.
revision = '0022_customisation'
down_revision = '0020_export_retention'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN: a batch rebuild of brands or organizations on SQLite would cascade
    # into every table that points at them.
    op.create_table('mail_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('header', sa.String(length=200), nullable=False),
    sa.Column('show_logo', sa.Boolean(), nullable=False),
    sa.Column('footer', sa.String(length=2000), nullable=False),
    sa.Column('updated_at', kb.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_mail_templates_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_templates')),
    sa.UniqueConstraint('brand_id', 'locale', name=op.f('uq_mail_templates_brand_id_locale'))
    )
    op.add_column('brands', sa.Column('logo_sha256', sa.String(length=64), nullable=True))
    op.add_column('brands', sa.Column('logo_type', sa.String(length=32), nullable=True))
    op.add_column('brands', sa.Column('favicon_sha256', sa.String(length=64), nullable=True))
    op.add_column('brands', sa.Column('favicon_type', sa.String(length=32), nullable=True))
    op.add_column('brands', sa.Column('header_links', sa.JSON(), nullable=True))

    op.add_column('organizations', sa.Column('backoffice_name', sa.String(length=200), nullable=True))
    op.add_column('organizations', sa.Column('backoffice_logo_sha256', sa.String(length=64), nullable=True))
    op.add_column('organizations', sa.Column('backoffice_logo_type', sa.String(length=32), nullable=True))



def downgrade():
    op.drop_column('organizations', 'backoffice_logo_type')
    op.drop_column('organizations', 'backoffice_logo_sha256')
    op.drop_column('organizations', 'backoffice_name')

    op.drop_column('brands', 'header_links')
    op.drop_column('brands', 'favicon_type')
    op.drop_column('brands', 'favicon_sha256')
    op.drop_column('brands', 'logo_type')
    op.drop_column('brands', 'logo_sha256')

    op.drop_table('mail_templates')
