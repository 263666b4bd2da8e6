"""The form builder: /admin/forms/ (inquiry forms and their fields, per brand)."""

from portal.blueprints.admin import bp  # noqa: F401
