"""What happened to a ticket, told to everything that reacts: the rule bot, the customer and
agent notifications and the team-chat webhooks, in that order (after the language of a
customer's message is detected, portal.desk.languages), in the caller's transaction.

The desk's operations call `emit` (intake when a ticket is made, replies for each reply,
agent_tickets for status and assignment changes), whatever the door. What the reactions do
(a rule changing the status, say) emits further events; they are queued and handled after the
current one, never inside it, and a rule acts at most once per ticket while one outside event
is being handled (portal.desk.automation.rules keeps `acted`), so rules cannot loop.
"""

import logging
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
log = logging.getLogger(__name__)


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


# The reactions, in the order they run. Each module registers its `on_event` when imported
# (the app imports them: portal.create_app); this module imports none of them, as each uses
# the desk's operations, which emit through this module.
# The language of a customer's message comes first: rules may read it.
ORDER = ("languages", "rules", "notifications", "agent_alerts", "webhooks")
_registered: dict = {}


def register(name: str, react, kinds=KINDS) -> None:
    """Make `react(session, event)` the reaction called `name` (one of ORDER), told of the
    events of `kinds` only (no savepoint is spent on the others)."""
    if name not in ORDER:
        raise ValueError(f"unknown reaction {name!r}")
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown events {sorted(unknown)!r}")
    _registered[name] = (react, frozenset(kinds))


def _reactions(kind: str | None = None):
    """The reactions told of events of `kind` (every one: None), in ORDER."""
    found = (_registered[name] for name in ORDER if name in _registered)
    return tuple(react for react, kinds in found if kind is None or kind in kinds)


def _react(session: Session, state: _Chain, react, event: Event) -> None:
    """One reaction in a savepoint: when it fails unexpectedly, what it did and the events it
    caused are undone and logged, and the operation that told it goes on (a broken rule or
    target never costs a customer their request)."""
    queued = len(state.queue)
    try:
        with session.begin_nested():
            react(session, event)
    except Exception:  # noqa: BLE001 (logged; the caller's change must still land)
        log.exception(
            "automation: %s failed on %s of ticket %s",
            react.__module__,
            event.kind,
            getattr(event.ticket, "id", None),
        )
        while len(state.queue) > queued:
            state.queue.pop()


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
            for react in _reactions(happened.kind):
                _react(session, state, react, happened)
    finally:
        state.running = False
        state.queue.clear()
        state.acted.clear()
