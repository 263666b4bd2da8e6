"""Customer-organization forms: an organization's settings, adding a member, removing one.

Each form binds an explicit list of fields; members are found by the email typed, never by an
id from the client.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from portal.desk.orgs import InvalidOrganization

# Error codes from portal.desk.orgs, worded for the admin.
ERRORS = {
    "name_required": _l("Give the organization a name."),
    "name_too_long": _l("The name is too long (at most 200 characters)."),
    "name_taken": _l("Another organization already has this name."),
    "domain_at": _l("Write domains without “@”, like example.com."),
    "domain_invalid": _l("Use domain names like example.com."),
    "domain_public": _l(
        "Anyone can get an address at a public mail service: use your customer's own domain."
    ),
    "domain_taken": _l("A domain can belong to one organization only."),
    "too_many_domains": _l("Use at most 100 domains."),
    "email_required": _l("Type the email address of a customer account."),
    "account_unknown": _l("No account has this email address."),
    "not_customer": _l("This is a staff account: only customers can be members."),
    "already_member": _l("This customer is already a member."),
    "other_organization": _l(
        "This customer belongs to another organization: remove them there first."
    ),
}


def error_message(code: str) -> str:
    return str(ERRORS.get(code, code))


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
