"""Who else has a ticket open, and who is typing: /agent/tickets/<id>/presence (htmx polling)."""

from portal.blueprints.agent import bp  # noqa: F401
