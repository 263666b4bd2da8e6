"""Customer organizations for admins: /admin/organizations (members, email domains, sharing)."""

from portal.blueprints.admin import bp  # noqa: F401
