"""Placeholders ({{requester_name}}, ...): the one renderer for canned responses, every reply
path (the ticket page, scheduled replies, bulk replies) and the customer notifications'
templates (portal.desk.automation.notifications), each with its own list of names."""

import re

from kb.people import User, display_name_for_customers
from portal.desk.models import Ticket

NAMES = ("requester_name", "requester_email", "ticket_id", "subject", "agent_name")
# A customer notification knows more: the request's link, its last reply, the brand.
NOTIFICATION_NAMES = (
    "requester_name",
    "requester_email",
    "ticket_id",
    "ticket_subject",
    "subject",
    "ticket_link",
    "last_reply",
    "brand_name",
    "agent_name",
)
# A name in double braces, spaces allowed inside; anything else in braces ({{ 7*7 }}) is text.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def unknown(body: str, names: tuple[str, ...] = NAMES) -> list[str]:
    """The placeholders in `body` that are not among `names`, as typed, each once."""
    found = (m.group(0) for m in _PLACEHOLDER.finditer(body or "") if m.group(1) not in names)
    return list(dict.fromkeys(found))


def used(body: str) -> set[str]:
    """The names of the placeholders in `body`."""
    return {m.group(1) for m in _PLACEHOLDER.finditer(body or "")}


def fill(body: str, ticket: Ticket, agent: User) -> str:
    """Known placeholders replaced by plain text; anything else stays exactly as typed."""
    values = {
        "requester_name": ticket.requester_name or "",
        "requester_email": ticket.requester_email or "",
        "ticket_id": str(ticket.id),
        "subject": ticket.subject or "",
        "agent_name": display_name_for_customers(agent),
    }
    return fill_values(body, values)


def fill_values(body: str, values: dict[str, str]) -> str:
    """`body` with each placeholder named in `values` replaced by its plain text; anything
    else stays exactly as typed."""
    # One pass over the text, so a value containing a placeholder is never filled again.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body or "")
