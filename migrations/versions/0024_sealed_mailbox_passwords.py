"""mailbox passwords sealed at rest

Revision ID: 0024_sealed_mailbox_passwords
Revises: 0022_customisation
Create Date: 2026-12-07 23:50:00

The IMAP passwords stored as typed are sealed with a key derived from SECRET_KEY
(portal.security.sealing); the downgrade opens them again. No schema change. Without the app
(an offline run) nothing is done: sealed and plain passwords are both read.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_sealed_mailbox_passwords'
down_revision = '0022_customisation'
branch_labels = None
depends_on = None

MAX = 500  # the column's length


def _rows_and_key():
    from flask import current_app, has_app_context

    if not has_app_context() or not current_app.config.get("SECRET_KEY"):
        return None, []
    rows = op.get_bind().execute(sa.text("SELECT id, password FROM mailboxes")).all()
    return current_app.config["SECRET_KEY"], rows


def _write(mailbox_id, password):
    op.get_bind().execute(
        sa.text("UPDATE mailboxes SET password = :password WHERE id = :id"),
        {"password": password, "id": mailbox_id},
    )


def upgrade():
    from portal.security import sealing

    key, rows = _rows_and_key()
    for mailbox_id, password in rows:
        if password and not sealing.is_sealed(password):
            sealed = sealing.seal(password, key)
            if len(sealed) <= MAX:  # (a longer one stays as typed, and is still read)
                _write(mailbox_id, sealed)


def downgrade():
    from portal.security import sealing

    key, rows = _rows_and_key()
    for mailbox_id, password in rows:
        if sealing.is_sealed(password):
            try:
                _write(mailbox_id, sealing.unseal(password, key))
            except sealing.SealError:
                _write(mailbox_id, "")  # another key sealed it: the admin types it again
