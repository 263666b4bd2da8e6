"""The organization page's forms (/admin/organization): its name, and the button that makes or
rotates its API key. Each binds only the fields it lists."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.security.tenant import MAX_NAME


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TenantNameForm(FlaskForm):
    name = StringField(
        _l("Organization name"),
        filters=[_strip],
        validators=[InputRequired(_l("Give the organization a name.")), Length(max=MAX_NAME)],
    )


class ApiKeyForm(FlaskForm):
    """Make the key, or replace it (CSRF only: nothing else is taken from the client)."""
