"""Who acts on a ticket when no person does: a rule or a schedule of the automation (a Bot).

A Bot goes through the same operations as an agent (portal.desk.agent_tickets, replies), so
its changes are recorded, audited and mailed like a person's; events and notes name it
("rule Refunds") where a person's name would stand. It holds the ticket permissions on its
own brand only (portal.security.roles.held_on asks `permissions_on`).
"""

from dataclasses import dataclass

# What a rule or schedule may do to a ticket of its brand: what an agent may, but no more.
BOT_PERMISSIONS = frozenset({"tickets.view", "tickets.reply", "tickets.note", "tickets.assign"})


@dataclass(frozen=True)
class Bot:
    """A rule ("rule") or schedule ("schedule") acting on tickets of `brand_id`."""

    kind: str  # "rule" or "schedule"
    source_id: int
    label: str  # the rule's or schedule's name
    brand_id: int

    # Read where an operation expects a person (User): a Bot has no account.
    id = None
    email = ""
    nickname = None
    locale = None
    is_bot = True

    @property
    def name(self) -> str:
        """How events, notes and the audit log name it: "rule Refunds"."""
        return f"{self.kind} {self.label}"

    def permissions_on(self, brand_id: int) -> frozenset[str]:
        return BOT_PERMISSIONS if brand_id == self.brand_id else frozenset()


def is_bot(actor) -> bool:
    return getattr(actor, "is_bot", False) is True
