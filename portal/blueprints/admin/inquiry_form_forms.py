"""Form-builder forms: a form's names and settings, one field's definition, and the option text.

Texts per locale are fields added per brand (name_<locale>, label_<locale>, ...). Each form
binds an explicit list of fields; brand, position and version come from us, never the client.

Options are typed one per line (no JavaScript needed):

    card = Credit card          value = label in the brand's default language
    card@ko = 신용카드           value@locale = label in another enabled language
    transfer                    a value alone: its label is the value itself
    # a comment                 blank lines and lines starting with # are skipped

A `value@locale` line belongs to the option declared above it with `value = ...`.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from kb.locales import language_name
from portal.desk.models import FIELD_TYPES, FORM_AUDIENCES
from portal.web.messages import error_text

MAX_OPTIONS_TEXT = 20_000

FIELD_TYPE_LABELS = {
    "text": _l("Short text"),
    "textarea": _l("Long text"),
    "email": _l("Email address"),
    "number": _l("Number"),
    "date": _l("Date"),
    "dropdown": _l("Dropdown list"),
    "multiselect": _l("List, several choices"),
    "checkbox": _l("Checkboxes"),
    "radio": _l("Radio buttons"),
    "file": _l("File upload"),
    "hidden": _l("Hidden, filled from the link"),
}
assert set(FIELD_TYPE_LABELS) == set(FIELD_TYPES)

AUDIENCE_LABELS = {
    "everyone": _l("Everyone"),
    "signed_in": _l("Signed-in customers"),
    "organizations": _l("Members of the chosen organizations"),
}
OFFERED_AUDIENCES = ("everyone", "signed_in", "organizations")


def error_message(code: str) -> str:
    return error_text(code, "form")


def show_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Domain error codes beside their fields (or above the form when it has no such field)."""
    for name, code in errors.items():
        target = form._fields.get(name)
        if target is not None:
            target.errors = [*target.errors, error_message(code)]
        else:
            form.form_errors.append(error_message(code))


# -- the option text ----------------------------------------------------------------------


def parse_options(text: str, default_locale: str, locales) -> tuple[list[dict], list[str]]:
    """(options, problems) from the option text; problems are messages naming the line."""
    options: list[dict] = []
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        value, _sep, label = line.partition("=")
        value, label = value.strip(), " ".join(label.split())
        locale = default_locale
        if "@" in value:
            value, _at, locale = (part.strip() for part in value.rpartition("@"))
            if locale not in locales:
                problems.append(
                    _(
                        "Line %(line)s: %(locale)s is not a language of this brand.",
                        line=number,
                        locale=locale,
                    )
                )
                continue
            option = next((o for o in reversed(options) if o["value"] == value), None)
            if option is None:
                problems.append(
                    _(
                        "Line %(line)s: write “%(value)s = label” before its translations.",
                        line=number,
                        value=value,
                    )
                )
                continue
            if label:
                option["labels"][locale] = label
            continue
        options.append({"value": value, "labels": {default_locale: label or value}})
    return options, problems


def format_options(options: list[dict], default_locale: str, locales) -> str:
    """The option text for stored options (parse_options reads it back unchanged)."""
    lines = []
    for option in options or []:
        value, labels = option.get("value", ""), option.get("labels") or {}
        label = labels.get(default_locale)
        lines.append(f"{value} = {label}" if label and label != value else value)
        lines += [
            f"{value}@{loc} = {labels[loc]}"
            for loc in locales
            if loc != default_locale and labels.get(loc)
        ]
    return "\n".join(lines)


class OptionsField(TextAreaField):
    """A textarea holding the options as text; `data` is the list of option dicts."""

    def __init__(self, label=None, validators=None, default_locale="en", locales=("en",), **kw):
        super().__init__(label, validators, **kw)
        self.default_locale, self.locales = default_locale, tuple(locales)
        self.text = ""

    def process_data(self, value):
        self.data = list(value or [])
        self.text = format_options(self.data, self.default_locale, self.locales)

    def process_formdata(self, valuelist):
        self.text = (valuelist[0] if valuelist else "")[:MAX_OPTIONS_TEXT]
        self.data, problems = parse_options(self.text, self.default_locale, self.locales)
        self.process_errors.extend(problems)

    def _value(self):
        return self.text


class NumberField(FloatField):
    """A number shown without a needless ".0"; what was typed is kept when it is no number."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return str(int(self.data)) if float(self.data).is_integer() else str(self.data)


# -- forms --------------------------------------------------------------------------------


class FormSettingsForm(FlaskForm):
    """A form's settings; name_<locale> and description_<locale> are added per brand."""

    listed = BooleanField(_l("Listed on the help center's request page"), default=True)
    audience = SelectField(_l("Who may use it"))
    organizations = SelectMultipleField(_l("Organizations"), coerce=int, choices=[])
    current_audience = "everyone"

    def validate_audience(self, field):
        if field.data not in OFFERED_AUDIENCES and field.data != self.current_audience:
            raise ValidationError(_("Choose who may use the form."))

    def names(self, brand) -> dict[str, str]:
        return {loc: self[f"name_{loc}"].data or "" for loc in brand.locales}

    def descriptions(self, brand) -> dict[str, str]:
        return {loc: self[f"description_{loc}"].data or "" for loc in brand.locales}


def form_settings_form(brand, inquiry_form=None, organization_choices=()) -> FormSettingsForm:
    """The settings form for a brand's enabled locales, filled from `inquiry_form` on GET."""

    class Form(FormSettingsForm):
        pass

    for loc in brand.locales:
        language = language_name(loc)
        setattr(Form, f"name_{loc}", StringField(_("Name (%(language)s)", language=language)))
        setattr(
            Form,
            f"description_{loc}",
            TextAreaField(_("Description (%(language)s)", language=language)),
        )
    data = {}
    if inquiry_form is not None:
        data = {
            "listed": inquiry_form.listed,
            "audience": inquiry_form.audience,
            "organizations": list(inquiry_form.organization_ids or []),
        }
        for loc in brand.locales:
            data[f"name_{loc}"] = (inquiry_form.names or {}).get(loc, "")
            data[f"description_{loc}"] = (inquiry_form.descriptions or {}).get(loc, "")
    form = Form(data=data)
    form.current_audience = inquiry_form.audience if inquiry_form else "everyone"
    form.organizations.choices = organization_choices
    form.audience.choices = [
        SelectChoice(
            value,
            str(AUDIENCE_LABELS[value]),
            render_kw={}
            if value in OFFERED_AUDIENCES or value == form.current_audience
            else {"disabled": True},
        )
        for value in FORM_AUDIENCES
    ]
    return form


class FieldForm(FlaskForm):
    """One field's definition; label_<locale>, help_<locale> and options are added per brand."""

    key = StringField(_l("Key"))
    type = SelectField(
        _l("Type"), choices=[SelectChoice(v, label) for v, label in FIELD_TYPE_LABELS.items()]
    )
    required = BooleanField(_l("Required"))
    min_length = IntegerField(_l("Minimum length"), validators=[Optional()])
    max_length = IntegerField(_l("Maximum length"), validators=[Optional()])
    pattern = StringField(_l("Pattern (regular expression the whole answer must match)"))
    min_value = NumberField(_l("Minimum value"), validators=[Optional()])
    max_value = NumberField(_l("Maximum value"), validators=[Optional()])
    condition_key = SelectField(_l("Show only when field"), validate_choice=False)
    condition_value = StringField(_l("has the answer"))
    query_param = StringField(_l("Query parameter of the form's link"))

    def values(self, brand) -> dict:
        """The attributes for portal.desk.forms.add_field / update_field."""
        return {
            "key": self.key.data or "",
            "type": self.type.data,
            "required": bool(self.required.data),
            "labels": {loc: self[f"label_{loc}"].data or "" for loc in brand.locales},
            "help": {loc: self[f"help_{loc}"].data or "" for loc in brand.locales},
            "options": self.options.data or [],
            "min_length": self.min_length.data,
            "max_length": self.max_length.data,
            "pattern": self.pattern.data or "",
            "min_value": self.min_value.data,
            "max_value": self.max_value.data,
            "condition_key": self.condition_key.data or "",
            "condition_value": self.condition_value.data or "",
            "query_param": self.query_param.data or "",
        }


def field_form(brand, earlier_fields, field=None, field_type=None) -> FieldForm:
    """The definition form for a brand's locales; conditions may name the `earlier_fields`
    ((key, label) pairs: the fields placed before this one)."""

    class Form(FieldForm):
        options = OptionsField(
            _l("Options"), default_locale=brand.default_locale, locales=brand.locales
        )

    for loc in brand.locales:
        language = language_name(loc)
        setattr(Form, f"label_{loc}", StringField(_("Label (%(language)s)", language=language)))
        setattr(
            Form, f"help_{loc}", TextAreaField(_("Help text (%(language)s)", language=language))
        )
    data = {"type": field_type if field_type in FIELD_TYPES else "text"}
    if field is not None:
        data = {
            name: getattr(field, name)
            for name in (
                "key",
                "type",
                "required",
                "options",
                "min_length",
                "max_length",
                "pattern",
                "min_value",
                "max_value",
                "condition_key",
                "condition_value",
                "query_param",
            )
        }
        for loc in brand.locales:
            data[f"label_{loc}"] = (field.labels or {}).get(loc, "")
            data[f"help_{loc}"] = (field.help or {}).get(loc, "")
    form = Form(data=data)
    form.condition_key.choices = [SelectChoice("", _("Always shown"))] + [
        SelectChoice(key, f"{key} · {label}" if label else key) for key, label in earlier_fields
    ]
    return form


class MoveForm(FlaskForm):
    """Up or down one place (the CSRF token comes with it)."""

    direction = SelectField(choices=[SelectChoice("up", "up"), SelectChoice("down", "down")])


class ConfirmForm(FlaskForm):
    """A delete, confirmed on its own page (only the CSRF token)."""
