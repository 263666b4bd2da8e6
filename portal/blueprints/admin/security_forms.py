"""The security settings forms for admins: /admin/security. Each binds only the fields it
lists."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length

from portal.security import allowlist
from portal.web.messages import error_text


class RequireTwoFactorForm(FlaskForm):
    """The organization's "require two-factor sign-in for all staff" switch."""

    require_two_factor = BooleanField(_l("Require two-factor sign-in for all staff"))


class AllowlistForm(FlaskForm):
    """The staff IP allowlist: one address or CIDR range per line. `entries` holds them as
    allowlist.parse() writes them once the form validates; every bad line is said."""

    allowlist = TextAreaField(
        _l("Addresses and ranges"),
        validators=[Length(max=allowlist.MAX_ENTRIES * (allowlist.MAX_LINE + 2))],
    )
    entries: list[str] = []

    def validate_allowlist(self, field):
        entries, errors = allowlist.parse(field.data or "")
        field.errors = list(field.errors) + [
            error_text(
                e.code,
                "allowlist",
                line=e.line,
                text=e.text,
                suggestion=e.suggestion,
                count=allowlist.MAX_ENTRIES,
            )
            for e in errors
        ]
        self.entries = entries
