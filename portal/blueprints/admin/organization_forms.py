"""Customer-organization forms: an organization's settings, adding a member, removing one.

Each form binds an explicit list of fields; members are found by the email typed, never by an
id from the client.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from portal.desk.orgs import InvalidOrganization
from portal.web.messages import error_text


def error_message(code: str) -> str:
    return error_text(code, "org")


class OrganizationForm(FlaskForm):
    name = StringField(_l("Name"))
    domains = TextAreaField(_l("Email domains"))
    shares_requests = BooleanField(_l("Members can see all the organization's requests"))


def organization_form(org=None, posted: bool = True) -> OrganizationForm:
    """The settings form, filled from `org` on GET. `posted=False` ignores what was posted
    (the settings shown beside a failed add-member form)."""
    data = {}
    if org is not None:
        data = {
            "name": org.name,
            "domains": "\n".join(org.domains or []),
            "shares_requests": org.shares_requests,
        }
    if not posted:
        return OrganizationForm(formdata=None, data=data)
    return OrganizationForm(data=data)


def show_errors(form: OrganizationForm, exc: InvalidOrganization) -> None:
    """Domain error codes beside their fields, naming the domains at fault."""
    for name, code in exc.errors.items():
        message = error_message(code)
        named = exc.details.get(name)
        if named:
            message = _("%(message)s (%(values)s)", message=message, values=", ".join(named))
        target = form._fields.get(name)
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)


class MemberForm(FlaskForm):
    email = StringField(_l("Email address"))


class RemoveMemberForm(FlaskForm):
    """A member's removal: posted once from the list (shows the question), then confirmed."""

    confirmed = HiddenField()


class ConfirmForm(FlaskForm):
    """A delete, confirmed on its own page (only the CSRF token)."""
