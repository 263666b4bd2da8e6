"""Bulk actions on selected tickets: /agent/bulk (status, assignee, priority, tags, one reply)."""

from portal.blueprints.agent import bp  # noqa: F401
