"""Mail channel forms for admins: a support address, the received messages' filter, a retry.

Each form binds an explicit list of fields; ids come back as chosen from the lists offered and
portal.mail.addresses checks that they name what they should.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from portal.mail.addresses import MAX_ADDRESS, MAX_NAME, InvalidAddress
from portal.mail.models import (
    DONE,
    DUPLICATE,
    FAILED,
    HELD,
    IGNORED,
    INBOUND_STATES,
    RECEIVED,
    MailAddress,
)
from portal.web.ids import parse_id
from portal.web.messages import error_text

STATUS_LABELS = {
    RECEIVED: _l("Waiting"),
    DONE: _l("Done"),
    IGNORED: _l("Ignored"),
    DUPLICATE: _l("Duplicate"),
    HELD: _l("Held"),
    FAILED: _l("Failed"),
}
assert set(STATUS_LABELS) == set(INBOUND_STATES)
# What an admin may send through the pipeline again.
RETRIED_STATES = (FAILED, HELD)


def _an_id_or_nothing(field) -> None:
    """A chosen id, or "" for none: anything else was not offered."""
    if field.data and parse_id(field.data) is None:
        raise ValidationError(_("Choose one of the listed values."))


class MailAddressForm(FlaskForm):
    """A support address: where mail comes in, for which brand (and organization), through
    which form, and the name its replies go out under."""

    address = StringField(_l("Address"))
    brand_id = SelectField(_l("Brand"), validate_choice=False)
    form_id = SelectField(_l("Form for new tickets"), validate_choice=False)
    customer_org_id = SelectField(_l("Organization"), validate_choice=False)
    name = StringField(_l("Name in the From line of replies"))

    def validate_brand_id(self, field):
        _an_id_or_nothing(field)

    def validate_form_id(self, field):
        _an_id_or_nothing(field)

    def validate_customer_org_id(self, field):
        _an_id_or_nothing(field)

    def values(self) -> dict:
        """The keyword arguments of portal.mail.addresses.add and change."""
        return {
            "address": (self.address.data or "")[: MAX_ADDRESS * 2],
            "brand_id": parse_id(self.brand_id.data),
            "form_id": parse_id(self.form_id.data),
            "customer_org_id": parse_id(self.customer_org_id.data),
            "name": (self.name.data or "")[: MAX_NAME * 2],
        }


def mail_address_form(
    brands, forms, organizations, row: MailAddress | None = None
) -> MailAddressForm:
    """The form with its lists: `brands` and `organizations` as (id, name) pairs, `forms` as
    (id, brand name, form name); filled from `row` on GET."""
    data = {}
    if row is not None:
        data = {
            "address": row.address,
            "brand_id": str(row.brand_id),
            "form_id": str(row.form_id or ""),
            "customer_org_id": str(row.customer_org_id or ""),
            "name": row.name,
        }
    form = MailAddressForm(data=data)
    form.brand_id.choices = [SelectChoice(str(id_), name) for id_, name in brands]
    form.form_id.choices = [SelectChoice("", _("The brand's first listed form"))] + [
        SelectChoice(str(id_), f"{brand} · {name}") for id_, brand, name in forms
    ]
    form.customer_org_id.choices = [SelectChoice("", _("None: the brand's own address"))] + [
        SelectChoice(str(id_), name) for id_, name in organizations
    ]
    return form


def show_errors(form: MailAddressForm, exc: InvalidAddress) -> None:
    """Domain error codes beside their fields."""
    for name, code in exc.errors.items():
        target = form._fields.get(name)
        message = error_text(code, "mail_address")
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)


class ConfirmForm(FlaskForm):
    """A removal, confirmed on its own page (only the CSRF token)."""


class ReceivedFilterForm(FlaskForm):
    """The received messages' filter, read from the query string (`formdata=request.args`):
    a status that is not one of ours filters nothing."""

    class Meta:
        csrf = False  # a GET: nothing changes

    status = StringField()
    before = StringField()

    def chosen_status(self) -> str | None:
        return self.status.data if self.status.data in INBOUND_STATES else None

    def before_id(self) -> int | None:
        """The page: messages older than this one (keyset; None for the newest)."""
        return parse_id(self.before.data)


class RetryForm(ReceivedFilterForm):
    """A retry: the list's filter, posted back so the admin returns to the same page
    (CSRFProtect checks the token of every POST)."""
