"""My performance: /agent/me (counts for today, this week and this month)."""

from portal.blueprints.agent import bp  # noqa: F401
