"""The mailbox form of the back office: an IMAP mailbox's server, login and folders.

The password is a write-only field: never filled back into the page, and left empty on an
existing mailbox it keeps the stored one.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.mail.inbound.imap import MailboxSettings
from portal.mail.models import Mailbox

SECURITY_LABELS = {
    "ssl": _l("SSL/TLS (usually port 993)"),
    "starttls": _l("STARTTLS (usually port 143)"),
    "none": _l("None: password and mail unencrypted"),
}
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
# Characters no host name, user name or folder we send to the server may hold.
CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _no_control_characters(form, field) -> None:
    if field.data and CONTROL & set(field.data):
        raise ValidationError(_("Line breaks and control characters are not allowed here."))


def _host_name(form, field) -> None:
    if field.data and (set(field.data) & (CONTROL | set(" /\\@:"))):
        raise ValidationError(_("Type the server's name only, like imap.example.com."))


class MailboxForm(FlaskForm):
    brand_id = SelectField(_l("Brand"), coerce=int, validators=[InputRequired()])
    address_id = SelectField(_l("Support address"), coerce=int, validators=[Optional()])
    host = StringField(
        _l("Server"), validators=[InputRequired(), Length(max=253), _host_name], filters=[_strip]
    )
    port = IntegerField(_l("Port"), validators=[InputRequired(), NumberRange(1, 65535)])
    security = SelectField(
        _l("Connection security"),
        choices=[SelectChoice(key, label) for key, label in SECURITY_LABELS.items()],
    )
    username = StringField(
        _l("User name"), validators=[InputRequired(), Length(max=254), _no_control_characters]
    )
    # At most 200 characters: sealed (portal.security.sealing) it still fits the column.
    password = PasswordField(_l("Password"), validators=[Length(max=200)])
    folder = StringField(
        _l("Folder to fetch"),
        default="INBOX",
        validators=[InputRequired(), Length(max=200), _no_control_characters],
    )
    move_to = StringField(
        _l("Move taken messages to"), validators=[Length(max=200), _no_control_characters]
    )
    enabled = BooleanField(_l("Fetch new mail every minute"), default=True)

    def __init__(self, *args, addresses=(), brands=(), new: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.new = new
        self.brand_id.choices = [SelectChoice(brand.id, brand.name) for brand in brands]
        self.address_id.choices = [SelectChoice(0, _("None"))] + [
            SelectChoice(address.id, f"{address.address} ({brand.name})")
            for address, brand in addresses
        ]
        self._address_brands = {address.id: address.brand_id for address, _brand in addresses}

    def validate_password(self, field) -> None:
        if self.new and not field.data:
            raise ValidationError(_("Type the mailbox's password."))
        if field.data and CONTROL & set(field.data):
            raise ValidationError(_("Line breaks and control characters are not allowed here."))

    def validate_address_id(self, field) -> None:
        brand = self._address_brands.get(field.data)
        if field.data and brand != self.brand_id.data:
            raise ValidationError(_("Choose an address of the chosen brand."))

    def settings(self) -> MailboxSettings:
        return MailboxSettings(
            brand_id=self.brand_id.data,
            address_id=self.address_id.data or None,
            host=self.host.data,
            port=self.port.data,
            security=self.security.data,
            username=self.username.data.strip(),
            folder=self.folder.data.strip(),
            move_to=(self.move_to.data or "").strip() or None,
            enabled=self.enabled.data,
        )


def mailbox_form(
    mailbox: Mailbox | None, brands, addresses, brand_id: int | None = None
) -> MailboxForm:
    """The form, filled from `mailbox` (or for a new one in `brand_id`) on GET."""
    if mailbox is None:
        data = {"brand_id": brand_id, "port": DEFAULT_PORTS["ssl"], "security": "ssl"}
    else:
        data = {
            name: getattr(mailbox, name)
            for name in ("brand_id", "host", "port", "security", "username", "folder", "enabled")
        }
        data.update(address_id=mailbox.address_id or 0, move_to=mailbox.move_to or "")
    return MailboxForm(data=data, brands=brands, addresses=addresses, new=mailbox is None)


class ConfirmForm(FlaskForm):
    """A delete or a check, posted from a button (only the CSRF token)."""
