"""What happened to a ticket, told to everything that reacts: the rule bot, the customer and
agent notifications and the team-chat webhooks, in that order (after the language of a
customer's message is detected, portal.desk.languages), in the caller's transaction.

The desk's operations call `emit` (intake when a ticket is made, replies for each reply,
agent_tickets for status and assignment changes), whatever the door. What the reactions do
(a rule changing the status, say) emits further events; they are queued and handled after the
current one, never inside it, and a rule acts at most once per ticket while one outside event
is being handled (portal.desk.automation.rules keeps `acted`), so rules cannot loop.
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from portal.desk.actors import is_bot

# The events: a ticket made (any channel), a public message from the customer side, a public
# reply or an internal note from an agent (or a bot), the status changed, the assignee or
# the group changed.
TICKET_CREATED = "ticket_created"
CUSTOMER_REPLIED = "customer_replied"
AGENT_REPLIED = "agent_replied"
NOTE_ADDED = "note_added"
STATUS_CHANGED = "status_changed"
ASSIGNED = "assigned"
KINDS = (TICKET_CREATED, CUSTOMER_REPLIED, AGENT_REPLIED, NOTE_ADDED, STATUS_CHANGED, ASSIGNED)

_STATE = "portal.automation"


@dataclass
class Event:
    """One happening. `actor`: the User, Bot (rule or schedule) or None (the customer side,
    Portal itself) that caused it; `message`: the TicketMessage of a reply or note; `old` and
    `new`: the status before and after (status_changed), or the assignee and group ids
    (assigned: {"assignee_id": .., "group_id": ..})."""

    kind: str
    ticket: object  # portal.desk.models.Ticket (flushed: it has an id)
    actor: object | None
    now: datetime
    message: object | None = None
    old: object | None = None
    new: object | None = None

    @property
    def by_bot(self) -> bool:
        return is_bot(self.actor)


@dataclass
class _Chain:
    """The events still to handle, and the rules that acted, while one outside event is
    handled (kept on the session, so nested operations share it)."""

    queue: deque = field(default_factory=deque)
    acted: set = field(default_factory=set)  # (rule id, ticket id)
    running: bool = False


def chain(session: Session) -> _Chain:
    """The current chain of events of this session (portal.desk.automation.rules reads
    `acted`)."""
    found = session.info.get(_STATE)
    if found is None:
        found = session.info[_STATE] = _Chain()
    return found


def _reactions():
    # Imported here: each reaction uses the desk's operations, which emit through this module.
    from portal.desk import languages
    from portal.desk.automation import agent_alerts, notifications, rules, webhooks

    return (
        languages.on_event,  # the language of a customer's message, first: rules may read it
        rules.on_event,
        notifications.on_event,
        agent_alerts.on_event,
        webhooks.on_event,
    )


def emit(session: Session, event: Event) -> None:
    """Tell every reaction about `event`, in the caller's transaction. Called while another
    event is handled, it is queued and handled after that one."""
    if event.kind not in KINDS:
        raise ValueError(f"unknown event {event.kind!r}")
    state = chain(session)
    state.queue.append(event)
    if state.running:
        return
    state.running = True
    try:
        while state.queue:
            happened = state.queue.popleft()
            for react in _reactions():
                react(session, happened)
    finally:
        state.running = False
        state.queue.clear()
        state.acted.clear()
