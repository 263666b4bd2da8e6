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

from kb.editing import ArticleFilters
from kb.markdown import MAX_BODY_CHARS
from kb.models import ARTICLE_KINDS
from portal.web.ids import parse_id

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

KIND_LABELS = {
    "guide": _l("Guide"),
    "faq": _l("FAQ"),
    "notice": _l("Notice"),
    "event": _l("Event"),
}
# What the article list filters by: the states of a translation, and missing or outdated ones.
LIST_STATES = ("draft", "published", "scheduled", "archived", "missing", "outdated")
STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
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


class ArticleListForm(FlaskForm):
    """The article list's filters, read from the query string (`formdata=request.args`): a value
    that is not offered (a brand out of the editor's reach, an unknown kind) filters nothing."""

    class Meta:
        csrf = False  # a GET: nothing changes

    brand = StringField()
    locale = StringField()
    kind = StringField()
    status = StringField()
    section = StringField()
    label = StringField()
    author = StringField()
    q = StringField()
    page = StringField()

    def chosen_brand(self, brands):
        return {b.slug: b for b in brands}.get(self.brand.data or "")

    def filters(self, brands, brand, locales, sections) -> ArticleFilters:
        """`sections`: the chosen brand's (id, title) pairs; another section filters nothing."""
        section_id = parse_id(self.section.data)
        return ArticleFilters(
            brand_ids=[b.id for b in brands],
            brand_id=brand.id if brand else None,
            locale=self.locale.data if self.locale.data in locales else None,
            kind=self.kind.data if self.kind.data in ARTICLE_KINDS else None,
            status=self.status.data if self.status.data in LIST_STATES else None,
            section_id=section_id if section_id in {id for id, _label in sections} else None,
            label=(self.label.data or "").strip().lower()[:64] or None,
            author_id=parse_id(self.author.data),
            text=" ".join((self.q.data or "").split())[:200],
            page=parse_id(self.page.data) or 1,
        )
