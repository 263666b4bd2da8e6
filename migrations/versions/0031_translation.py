"""translation: a provider for the organization, messages' detected language, translations

Revision ID: 0031_translation
Revises: 0029_agent_notifications
Create Date: 2026-12-08 01:00:00

translation_settings holds the organization's provider (none, LibreTranslate, DeepL) with its
address and sealed API key; ticket_messages.language the language detected in a customer's
message (added without a batch rebuild: ticket messages are never rebuilt on SQLite);
message_translations the translations agents asked for and the original text of replies sent
translated.
"""
import sqlalchemy as sa
from alembic import op

from kb.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0031_translation'
down_revision = "0029_agent_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ticket_messages', sa.Column('language', sa.String(length=16), nullable=True))
    op.create_table(
        'translation_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('api_key', sa.Text(), nullable=False),
        sa.Column('deepl_free', sa.Boolean(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'message_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_message_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('original', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_message_id'], ['ticket_messages.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_message_translations_message',
        'message_translations',
        ['ticket_message_id', 'language', 'original'],
    )


def downgrade():
    op.drop_index('ix_message_translations_message', table_name='message_translations')
    op.drop_table('message_translations')
    op.drop_table('translation_settings')
    op.drop_column('ticket_messages', 'language')
