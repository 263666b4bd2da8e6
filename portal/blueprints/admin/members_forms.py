"""The forms of /admin/members and /admin/roles. Each binds only the fields it lists; the
member form gets one role select per brand (brand_<id>)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField

from kb.people import Role
from portal.blueprints.admin.forms import choices
from portal.security import roles
from portal.security.roles import RoleError


class MemberForm(FlaskForm):
    """Invite or edit a member: name, address (invitations only), login ID and roles."""

    name = StringField(_l("Name"))
    email = StringField(_l("Email"))
    login_id = StringField(_l("Login ID"))
    org_admin = BooleanField(_l("Organization admin (members, security, audit log)"))
    every_brand = SelectField(_l("Role on every brand"), choices=[], validate_choice=False)

    @classmethod
    def for_brands(cls, brands, **kwargs) -> "MemberForm":
        """The form with a role select for each of `brands`."""

        class Bound(cls):
            pass

        for brand in brands:
            setattr(Bound, f"brand_{brand.id}", SelectField(choices=[], validate_choice=False))
        form = Bound(**kwargs)
        form.brands = list(brands)
        return form

    def brand_field(self, brand):
        return self[f"brand_{brand.id}"]

    def chosen(self, all_roles: list[Role]):
        """(org admin, every-brand role, {brand id: role or None}); RoleError for a role that
        does not exist."""
        by_id = {str(r.id): r for r in all_roles}

        def role_of(value) -> Role | None:
            if not value:
                return None
            if value not in by_id:
                raise RoleError("role_unknown")
            return by_id[value]

        per_brand = {b.id: role_of(self.brand_field(b).data) for b in self.brands}
        return bool(self.org_admin.data), role_of(self.every_brand.data), per_brand


class RoleForm(FlaskForm):
    """A custom role: its name and permissions (checked against the documented list)."""

    name = StringField(_l("Name"))
    permissions = SelectMultipleField(
        _l("Permissions"), choices=choices((p, p) for p in roles.PERMISSIONS), validate_choice=False
    )
