"""One ticket for agents: /agent/tickets/<id> (conversation, notes, changes, replies)."""

from portal.blueprints.agent import bp  # noqa: F401
