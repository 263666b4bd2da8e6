"""The security settings form for admins: /admin/security. Binds only the fields it lists."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class RequireTwoFactorForm(FlaskForm):
    """The organization's "require two-factor sign-in for all staff" switch."""

    require_two_factor = BooleanField(_l("Require two-factor sign-in for all staff"))
