"""blocked requesters and the ticket trash

Revision ID: 0021_block_trash
Revises: 0023_org_key_allowlist
Create Date: 2026-12-07 22:00:00

blocked_requesters: addresses whose requests are not accepted (portal.desk.blocking).
tickets.deleted_at / deleted_by_id: a ticket in the trash (portal.desk.trash). The columns are
added with ADD COLUMN alone (never a batch: tickets carries the ticket_counts triggers, which a
table copy would drop), and the triggers are made again so that a ticket in the trash counts
as a ticket no longer worked on: trashing gives -1, restoring +1, purging nothing more.
"""

import sqlalchemy as sa
from alembic import op

import kb.db

revision = "0021_block_trash"
down_revision = "0023_org_key_allowlist"
branch_labels = None
depends_on = None

LIVE = "('new', 'open', 'pending', 'on_hold')"
KEY = ("brand_id", "status", "priority", "assignee_id", "group_id")
COLUMNS = ", ".join((*KEY, "n"))


def _values(row: str, n: int) -> str:
    return ", ".join((*(f"{row}.{k}" for k in KEY), str(n)))


def _counted(row: str, trash: bool) -> str:
    """The row counts: still worked on (and, with `trash`, not in the trash)."""
    return f"{row}.status IN {LIVE}" + (f" AND {row}.deleted_at IS NULL" if trash else "")


def _postgresql(trash: bool) -> list[str]:
    watched = (*KEY, "deleted_at") if trash else KEY
    changed = " OR ".join(f"OLD.{k} IS DISTINCT FROM NEW.{k}" for k in watched)
    return [
        f"""
        CREATE OR REPLACE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND {_counted("OLD", trash)} THEN
                INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("OLD", -1)});
            END IF;
            IF TG_OP <> 'DELETE' AND {_counted("NEW", trash)} THEN
                INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("NEW", 1)});
            END IF;
            RETURN NULL;
        END $$
        """,
        "DROP TRIGGER IF EXISTS ticket_counts_update ON tickets",
        f"CREATE TRIGGER ticket_counts_update AFTER UPDATE ON tickets "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION ticket_counts_track()",
    ]


def _sqlite(trash: bool) -> list[str]:
    watched = (*KEY, "deleted_at") if trash else KEY
    changed = " OR ".join(f"OLD.{k} IS NOT NEW.{k}" for k in watched)
    return [
        "DROP TRIGGER IF EXISTS ticket_counts_insert",
        "DROP TRIGGER IF EXISTS ticket_counts_update",
        "DROP TRIGGER IF EXISTS ticket_counts_delete",
        f"""
        CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets WHEN {_counted("NEW", trash)}
        BEGIN
            INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("NEW", 1)});
        END
        """,
        f"""
        CREATE TRIGGER ticket_counts_update AFTER UPDATE ON tickets WHEN {changed}
        BEGIN
            INSERT INTO ticket_counts ({COLUMNS})
                SELECT {_values("OLD", -1)} WHERE {_counted("OLD", trash)};
            INSERT INTO ticket_counts ({COLUMNS})
                SELECT {_values("NEW", 1)} WHERE {_counted("NEW", trash)};
        END
        """,
        f"""
        CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets WHEN {_counted("OLD", trash)}
        BEGIN
            INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("OLD", -1)});
        END
        """,
    ]


def _triggers(trash: bool) -> list[str]:
    postgresql = op.get_bind().dialect.name == "postgresql"
    return _postgresql(trash) if postgresql else _sqlite(trash)


def upgrade():
    op.create_table(
        "blocked_requesters",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("blocked_at", kb.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocked_by_id"],
            ["users.id"],
            name=op.f("fk_blocked_requesters_blocked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_blocked_requesters")),
    )
    op.add_column("tickets", sa.Column("deleted_at", kb.db.UTCDateTime(timezone=True)))
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("tickets", sa.Column("deleted_by_id", sa.Integer()))
        op.create_foreign_key(
            op.f("fk_tickets_deleted_by_id_users"),
            "tickets",
            "users",
            ["deleted_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    else:  # SQLite takes a reference in ADD COLUMN (its value NULL), not in a later ALTER
        op.execute(
            "ALTER TABLE tickets ADD COLUMN deleted_by_id INTEGER "
            "CONSTRAINT fk_tickets_deleted_by_id_users REFERENCES users (id) ON DELETE SET NULL"
        )
    op.create_index("ix_tickets_deleted", "tickets", ["deleted_at", "id"])
    for statement in _triggers(trash=True):
        op.execute(statement)


def downgrade():
    # A trashed ticket still worked on comes back into the counts with the old triggers.
    op.execute(
        f"INSERT INTO ticket_counts ({COLUMNS}) SELECT {', '.join(KEY)}, count(*) FROM tickets "
        f"WHERE status IN {LIVE} AND deleted_at IS NOT NULL GROUP BY {', '.join(KEY)}"
    )
    for statement in _triggers(trash=False):
        op.execute(statement)
    op.drop_index("ix_tickets_deleted", table_name="tickets")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_tickets_deleted_by_id_users"), "tickets", type_="foreignkey")
    # (SQLite >= 3.35 drops a column with ALTER TABLE; a reference on it is no obstacle when
    # it is the column's own.)
    op.drop_column("tickets", "deleted_by_id")
    op.drop_column("tickets", "deleted_at")
    op.drop_table("blocked_requesters")
