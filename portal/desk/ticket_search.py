"""Agents' full-text search over tickets: each word of the query is found as a part of the
subject, the description, a message (internal notes too), the requester's name or email, or
the organization's name, in any case. The words are read from indexes (migration 0015):
trigram GIN indexes on PostgreSQL, FTS5 trigram tables on SQLite; a word shorter than three
characters, which trigrams cannot look up, is matched with LIKE."""

from sqlalchemy import and_, func, literal_column, select, table, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from kb.people import CustomerOrganization
from portal.desk.models import Ticket, TicketMessage

MAX_QUERY = 200
MAX_WORDS = 8
TRIGRAM = 3

_TICKETS_FTS = table("tickets_fts", literal_column("rowid"))
_MESSAGES_FTS = table("ticket_messages_fts", literal_column("rowid"))


def clean_query(text: str | None) -> str:
    """The query as kept in the page: spaces collapsed, capped."""
    return " ".join((text or "").split())[:MAX_QUERY]


def words(text: str) -> list[str]:
    """The query's distinct words, lower case, at most MAX_WORDS."""
    found = []
    for word in clean_query(text).lower().split():
        if word not in found:
            found.append(word)
    return found[:MAX_WORDS]


def matches(text: str):
    """A condition on tickets: every word of `text` is found in one of the searched places."""
    return and_(*(_WordMatch(word) for word in words(text)))


class _WordMatch(ColumnElement):
    """Ticket.id IN (the tickets where the word is found): compiled per database, so the
    queues' statements stay the same on both."""

    inherit_cache = False  # the word is not a bound parameter of a cached statement

    def __init__(self, word: str):
        self.word = word


def _like(column, word: str):
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _organizations(word: str):
    """Tickets of organizations named with the word (a small table; tickets by its index)."""
    orgs = select(CustomerOrganization.id).where(_like(CustomerOrganization.name, word))
    return select(Ticket.id).where(Ticket.customer_org_id.in_(orgs))


def _with_like(word: str):
    """Each place from its own index (PostgreSQL's trigram indexes answer LIKE '%word%' on
    exactly these expressions), joined by UNION."""
    text = Ticket.subject.concat(literal_column("' '")).concat(Ticket.description)
    return union(
        select(Ticket.id).where(_like(text, word)),
        select(Ticket.id).where(_like(Ticket.requester_name, word)),
        select(Ticket.id).where(_like(Ticket.requester_email, word)),
        select(TicketMessage.ticket_id).where(_like(TicketMessage.body, word)),
        _organizations(word),
    )


def _with_fts5(word: str):
    phrase = '"' + word.replace('"', '""') + '"'
    in_tickets = select(_TICKETS_FTS.c.rowid).where(literal_column("tickets_fts").match(phrase))
    in_messages = select(TicketMessage.ticket_id).where(
        TicketMessage.id.in_(
            select(_MESSAGES_FTS.c.rowid).where(literal_column("ticket_messages_fts").match(phrase))
        )
    )
    return union(in_tickets, in_messages, _organizations(word))


@compiles(_WordMatch)
def _compile_like(element, compiler, **kw):
    return compiler.process(Ticket.id.in_(_with_like(element.word)), **kw)


@compiles(_WordMatch, "sqlite")
def _compile_sqlite(element, compiler, **kw):
    if len(element.word) < TRIGRAM:
        return _compile_like(element, compiler, **kw)
    return compiler.process(Ticket.id.in_(_with_fts5(element.word)), **kw)
