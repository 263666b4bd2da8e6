"""agents' ticket search: indexes for subject, description, messages, requester

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:00:00

The agents' search (/agent/?q=, portal.desk.ticket_search) finds a word as a part of the
subject, description, any message (notes too), the requester's name or email. Each place is
read from an index, never by scanning every message:

- PostgreSQL, where pg_trgm is installed (migration 0007): trigram GIN indexes on the
  lower-cased message bodies and requester names, beside 0007's (subject and description) and
  0013's (requester email).
- SQLite: two FTS5 tables with the trigram tokenizer (SQLite 3.34+), over tickets and
  ticket_messages (external content: they store only the index), kept by triggers in the same
  transaction as the change, whichever code changes the rows. The tickets' trigger fires only
  when an indexed column changes, not on every status or time change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PG_INDEXES = {
    "ix_ticket_messages_body_trgm": "ticket_messages USING gin (lower(body) gin_trgm_ops)",
    "ix_tickets_requester_name_trgm": "tickets USING gin (lower(requester_name) gin_trgm_ops)",
}
TICKET_COLUMNS = ("subject", "description", "requester_name", "requester_email")


def _fts(table: str, columns: tuple[str, ...]) -> list[str]:
    """An external-content FTS5 table over `table`'s columns and the triggers that keep it."""
    fts = f"{table}_fts"
    names = ", ".join(columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    old = ", ".join(f"OLD.{c}" for c in columns)
    remove = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', OLD.id, {old});"
    add = f"INSERT INTO {fts} (rowid, {names}) VALUES (NEW.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN {remove} {add} END",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        trgm = "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
        if bind.execute(sa.text(trgm)).scalar():
            for name, definition in PG_INDEXES.items():
                op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
        return
    if bind.dialect.name == "sqlite":
        for statement in _fts("tickets", TICKET_COLUMNS) + _fts("ticket_messages", ("body",)):
            op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        return
    if bind.dialect.name == "sqlite":
        for table in ("tickets", "ticket_messages"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{event}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
