"""Canned responses for agents: /agent/canned (personal and per brand), inserted into replies."""

from portal.blueprints.agent import bp  # noqa: F401
