"""The mail viewer: /admin/mail (what the local SMTP sink received, and the outbox)."""

from portal.blueprints.admin import bp  # noqa: F401
