"""ticket counts kept by triggers

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 18:00:00

The agents' queue counts read ticket_counts (portal.desk.models.TicketCount) instead of every
ticket still being worked on. Triggers on tickets add a -1 row for what a ticket was and a +1
row for what it is, in the same transaction as the change, whichever code (or SQL) changes it:
inserts only, so concurrent changes never wait for each other on a shared counter row. The
readers fold the rows into one per combination from time to time (portal.desk.queues.fold).
The table starts with the counts of the tickets already there.

On PostgreSQL, where pg_trgm is installed (migration 0007), a trigram index on the lower-cased
requester email answers the queues' requester filter (a part of the email) without reading
every ticket.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LIVE = "('new', 'open', 'pending', 'on_hold')"
KEY = ("brand_id", "status", "priority", "assignee_id", "group_id")
COLUMNS = ", ".join((*KEY, "n"))
CHANGED = " OR ".join(f"OLD.{k} IS DISTINCT FROM NEW.{k}" for k in KEY)


def _values(row: str, n: int) -> str:
    return ", ".join((*(f"{row}.{k}" for k in KEY), str(n)))


POSTGRESQL = [
    f"""
    CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status IN {LIVE} THEN
            INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("OLD", -1)});
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status IN {LIVE} THEN
            INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("NEW", 1)});
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION ticket_counts_track()",
    f"CREATE TRIGGER ticket_counts_update AFTER UPDATE ON tickets "
    f"FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION ticket_counts_track()",
    "CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION ticket_counts_track()",
]

SQLITE = [
    f"""
    CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets WHEN NEW.status IN {LIVE}
    BEGIN
        INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("NEW", 1)});
    END
    """,
    f"""
    CREATE TRIGGER ticket_counts_update AFTER UPDATE ON tickets
    WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
    BEGIN
        INSERT INTO ticket_counts ({COLUMNS})
            SELECT {_values("OLD", -1)} WHERE OLD.status IN {LIVE};
        INSERT INTO ticket_counts ({COLUMNS})
            SELECT {_values("NEW", 1)} WHERE NEW.status IN {LIVE};
    END
    """,
    f"""
    CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets WHEN OLD.status IN {LIVE}
    BEGIN
        INSERT INTO ticket_counts ({COLUMNS}) VALUES ({_values("OLD", -1)});
    END
    """,
]


TRGM_INDEX = "ix_tickets_requester_trgm"


def upgrade():
    op.create_table(
        "ticket_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_counts")),
    )
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)
    trgm = "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
    if postgresql and bind.execute(sa.text(trgm)).scalar():
        op.execute(
            f"CREATE INDEX {TRGM_INDEX} ON tickets USING gin (lower(requester_email) gin_trgm_ops)"
        )
    op.execute(
        f"INSERT INTO ticket_counts ({COLUMNS}) SELECT {', '.join(KEY)}, count(*) FROM tickets "
        f"WHERE status IN {LIVE} GROUP BY {', '.join(KEY)}"
    )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS ticket_counts_{name}" + (" ON tickets" * postgresql))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS ticket_counts_track()")
        op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
    op.drop_table("ticket_counts")
