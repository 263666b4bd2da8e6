"""The translation settings' forms (/admin/automation/translation): the provider with its address
and key, and the Test button. Each binds only the fields it lists."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField

from portal.desk import translators


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TranslationSettingsForm(FlaskForm):
    """The provider; an empty key keeps the stored one (it is never shown back)."""

    provider = StringField(_l("Provider"), default=translators.NONE, filters=[_strip])
    url = StringField(_l("Server address"), filters=[_strip])
    api_key = PasswordField(_l("API key"), filters=[_strip])
    deepl_free = BooleanField(_l("DeepL API Free account"))


# The providers offered, in the order the page lists them (the domain refuses any other).
PROVIDER_CHOICES = (
    (translators.NONE, _l("None (no translation buttons)")),
    (translators.LIBRETRANSLATE, _l("LibreTranslate (a self-hosted server)")),
    (translators.DEEPL, _l("DeepL")),
)


class TranslationTestForm(FlaskForm):
    """Translate "Hello" into Korean with the saved settings (CSRF only)."""
