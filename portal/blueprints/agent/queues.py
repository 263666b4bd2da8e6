"""Ticket queues: /agent/ (unassigned, mine, all open, pending, solved recently)."""

from portal.blueprints.agent import bp  # noqa: F401
