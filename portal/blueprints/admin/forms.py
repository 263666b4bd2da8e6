"""Back-office forms: each binds an explicit list of fields; brand and author come from us."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kb.markdown import MAX_BODY_CHARS

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

KIND_LABELS = {
    "guide": _l("Guide"),
    "faq": _l("FAQ"),
    "notice": _l("Notice"),
    "event": _l("Event"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}

# Error codes from kb.authoring, worded for the editor.
ERRORS = {
    "title_required": _l("Give the article a title."),
    "title_too_long": _l("The title is too long."),
    "slug_taken": _l("Another article in this brand and language already uses this slug."),
    "section_unknown": _l("Choose a section of this brand."),
    "kind_unknown": _l("Choose a kind."),
    "too_many_labels": _l("Use at most 20 labels."),
    "status_unknown": _l("Choose a status."),
    "body_unrenderable": _l("The text could not be rendered; it may be too long."),
    "unpublish_before_publish": _l("The unpublish time must come after the publish time."),
    "locale_not_enabled": _l("This language is not enabled for the brand."),
}
NOTICES = {
    "published_now": _l("The publish time was in the past, so the article is published now."),
}


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def to_utc(local: datetime | None, timezone: str) -> datetime | None:
    """A time typed in the brand's timezone, as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def to_local(value: datetime | None, timezone: str) -> datetime | None:
    """An aware datetime shown in the brand's timezone (naive, for a datetime-local input)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)


class TranslationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=300)])
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=100)])
    body_md = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=MAX_BODY_CHARS)])
    section_id = SelectField(_l("Section"), coerce=int, validate_choice=False)
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    labels = StringField(_l("Labels"), validators=[Optional(), Length(max=1500)])
    promoted = BooleanField(_l("Promoted on the home page"))
    position = IntegerField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(-100000, 100000)]
    )
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS.items()))
    publish_at = DateTimeLocalField(_l("Publish at"), format=LOCAL_FORMAT, validators=[Optional()])
    unpublish_at = DateTimeLocalField(
        _l("Unpublish at"), format=LOCAL_FORMAT, validators=[Optional()]
    )
    event_at = DateTimeLocalField(_l("Event date"), format=LOCAL_FORMAT, validators=[Optional()])
    base_version = HiddenField()


class PreviewForm(FlaskForm):
    body_md = TextAreaField(validators=[Length(max=MAX_BODY_CHARS)])


class NodeForm(FlaskForm):
    """A category or section: a title per enabled locale and a position (fields added per brand)."""

    position = IntegerField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(-100000, 100000)]
    )
    category_id = SelectField(_l("Category"), coerce=int, validate_choice=False)


class LabelNamesForm(FlaskForm):
    """The label names page: one text field per label and locale (named name:<label>:<locale>,
    read by the view against the brand's labels), so only the CSRF token is declared here."""
