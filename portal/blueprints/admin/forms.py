"""Back-office forms: each binds an explicit list of fields; brand and author come from us."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
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
from portal.web.fields import StringListField
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
    action = StringField()  # the button pressed: "save", or "preview" (never saves)


class PreviewForm(FlaskForm):
    body_md = TextAreaField(validators=[Length(max=MAX_BODY_CHARS)])


class IdListField(StringListField):
    """Ids posted under one name (checkboxes, a multiple select), in order; what is not an id
    is dropped (the domain checks that each names something the editor may choose)."""

    def process_formdata(self, valuelist):
        self.data = [i for i in map(parse_id, valuelist) if i]


class KeyedField(Field):
    """Every posted field named `<prefix><key>`, as {key: first value}: the fields a page makes
    per label, per language or per form, which the view checks against what it offered."""

    def __init__(self, label=None, validators=None, key_prefix="", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.key_prefix = key_prefix

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.raw_data = []
        self.data = {}
        for name in formdata or ():
            if name.startswith(self.key_prefix):
                self.data[name.removeprefix(self.key_prefix)] = formdata.get(name)

    def posted(self) -> dict[str, str]:
        """What was posted, under the names it was posted with (to show it again)."""
        return {self.key_prefix + key: value for key, value in self.data.items()}


class LabelNamesForm(FlaskForm):
    """The label names page: one text field per label and locale, named
    name:<label>:<locale>, kept only for the brand's labels and languages."""

    brand = StringField()
    names = KeyedField(key_prefix="name:")

    def names_of(self, labels, locales) -> dict[str, dict[str, str]]:
        """{label: {locale: name}} for the labels and locales offered; the rest is ignored."""
        names = {}
        for key, value in self.names.data.items():
            label, _sep, locale = key.rpartition(":")
            if label in labels and locale in locales:
                names.setdefault(label, {})[locale] = value
        return names


class GroupForm(FlaskForm):
    """An agent group: its name and the agents checked (assignment.save_group checks both)."""

    name = StringField()
    members = IdListField()


class RoutingForm(FlaskForm):
    """Every assignment rule of one brand at once: `target-0` for the brand, `target-<form id>`
    per form, each "", "group:<id>" or "agent:<id>" (assignment.set_rule checks them)."""

    targets = KeyedField(key_prefix="target-")

    def rules(self) -> list[tuple[str, int, str]]:
        """(key as posted, form id or 0 for the brand, target) of each rule with a usable key."""
        rules = []
        for raw, target in self.targets.data.items():
            form_id = parse_id(raw, low=0)
            if form_id is not None:
                rules.append((raw, form_id, target))
        return rules


class CategoryForm(FlaskForm):
    """A category: a title per language of the brand (title_<locale>) and a position. `brand`
    names the brand of a new one."""

    brand = StringField()
    titles = KeyedField(key_prefix="title_")
    position = StringField()

    def titles_in(self, locales) -> dict[str, str]:
        return {loc: (self.titles.data.get(loc) or "")[:1000] for loc in locales}

    def position_value(self) -> int:
        """The position typed, held within the range kept; anything else is 0."""
        value = (self.position.data or "0").strip()
        try:
            return max(-100000, min(100000, int(value or 0)))
        except ValueError:
            return 0

    def typed(self) -> dict:
        """What was posted, by field name, to show again beside the errors (the organizations
        as posted, none when none were)."""
        typed = self.titles.posted()
        for field in self:
            if field.name == "organization_ids":
                typed[field.name] = list(field.raw_data or [])
            elif field is not self.titles and field.raw_data:
                typed[field.name] = field.raw_data[0]
        return typed


class SectionForm(CategoryForm):
    """A section: a category's as well as its own titles and position, and who may read it."""

    category_id = StringField()
    audience = StringField()
    organization_ids = IdListField()

    def chosen_organizations(self) -> list[int]:
        return self.organization_ids.data[:100]


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
