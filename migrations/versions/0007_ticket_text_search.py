"""ticket text search: a trigram index on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 13:55:00

"My requests" searches subject and description with LIKE '%word%'. On PostgreSQL a trigram
(pg_trgm) GIN index on the same expression answers it without reading every request of an
organization; where the extension cannot be created (no permission), nothing is created and the
search still works, only slower. SQLite has no such index: its planner walks the list's
(…, updated_at, id) index and stops after one page of matches.
"""

from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_tickets_text_trgm"
EXPRESSION = "lower(subject || ' ' || description)"


def _has_trgm(bind) -> bool:
    if bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        return True
    available = bind.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if not available:
        return False
    try:
        with bind.begin_nested():  # a refusal must not abort the migration's transaction
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception:  # noqa: BLE001 - no permission: go on without the index
        return False
    return True


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _has_trgm(bind):
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON tickets USING gin (({EXPRESSION}) gin_trgm_ops)"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
