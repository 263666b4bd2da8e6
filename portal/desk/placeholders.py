"""Reply placeholders ({{requester_name}}, ...): the one renderer for canned responses and for
every reply path (the ticket page, scheduled replies, bulk replies)."""

import re

from kb.people import User, display_name_for_customers
from portal.desk.models import Ticket

NAMES = ("requester_name", "requester_email", "ticket_id", "subject", "agent_name")
# A name in double braces, spaces allowed inside; anything else in braces ({{ 7*7 }}) is text.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def unknown(body: str) -> list[str]:
    """The placeholders in `body` that are not ours, as typed, each once."""
    found = (m.group(0) for m in _PLACEHOLDER.finditer(body or "") if m.group(1) not in NAMES)
    return list(dict.fromkeys(found))


def fill(body: str, ticket: Ticket, agent: User) -> str:
    """Known placeholders replaced by plain text; anything else stays exactly as typed."""
    values = {
        "requester_name": ticket.requester_name or "",
        "requester_email": ticket.requester_email or "",
        "ticket_id": str(ticket.id),
        "subject": ticket.subject or "",
        "agent_name": display_name_for_customers(agent),
    }
    # One pass over the text, so a value containing a placeholder is never filled again.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)
