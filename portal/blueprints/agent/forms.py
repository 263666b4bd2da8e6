"""Forms and query strings of the agent's small pages: canned responses, availability, presence,
the queue filters and the customer lookup."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length

from portal.desk import canned
from portal.desk.models import TICKET_PRIORITIES
from portal.desk.queues import QueueQuery
from portal.web.ids import parse_id

MAX_EMAIL = 320


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CannedForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the response a title.")),
            Length(max=canned.MAX_TITLE, message=_l("The title is too long.")),
        ],
    )
    body = TextAreaField(
        _l("Text"),
        validators=[
            DataRequired(_l("Write the response.")),
            Length(max=canned.MAX_BODY, message=_l("The text is too long.")),
        ],
    )
    scope = SelectField(_l("Who can use it"), validate_choice=True)


class CannedDeleteForm(FlaskForm):
    """A delete, confirmed on its own page: the CSRF token and confirmed=yes. Anything else
    (a GET, a POST without the confirmation) shows the question again."""

    confirmed = HiddenField(validators=[AnyOf(["yes"])])


class AvailabilityForm(FlaskForm):
    """ "Receive new tickets" on /agent/me: the box sends 1 when ticked, nothing when not."""

    receives_tickets = BooleanField(false_values=("", "0", "false"))


class PresenceForm(FlaskForm):
    """The ticket page's presence poll: the reply box's text, only to tell typing from reading."""

    body = TextAreaField()

    @property
    def typing(self) -> bool:
        return bool((self.body.data or "").strip())


@dataclass(frozen=True)
class OrganizationLookup:
    """?org= of the organization picker's suggestions: what is typed in the box."""

    text: str = ""

    @classmethod
    def from_args(cls, args) -> "OrganizationLookup":
        return cls(text=args.get("org", ""))


@dataclass(frozen=True)
class CannedInsertQuery:
    """?canned=&body= of the reply box's canned-response picker (htmx sends the whole form):
    the response chosen (not a usable id: none) and the text already typed."""

    canned_id: int | None = None
    body: str = ""
    asked: bool = False  # ?canned= given at all (the ticket page's Insert without JavaScript)

    @classmethod
    def from_args(cls, args) -> "CannedInsertQuery":
        return cls(
            canned_id=parse_id(args.get("canned")),
            body=args.get("body", ""),
            asked="canned" in args,
        )


@dataclass(frozen=True)
class CustomerLookup:
    """?email= of /agent/customers/by-email: a requester's address (too long: none)."""

    email: str = ""

    @classmethod
    def from_args(cls, args) -> "CustomerLookup":
        email = args.get("email", "")
        return cls(email=email if len(email) <= MAX_EMAIL else "")


# Words for stored values, as agent/labels.html says them (the same msgids).
STATUS_LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "pending": _l("Pending"),
    "on_hold": _l("On hold"),
    "solved": _l("Solved"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
}
SORT_CHOICES = [
    SelectChoice("updated", _l("Recently updated")),
    SelectChoice("created", _l("Newest first")),
    SelectChoice("priority", _l("Most urgent first")),
]


class QueueFilterForm(FlaskForm):
    """The queue page's filter boxes (a GET form): named as QueueQuery's arguments, showing the
    values QueueQuery.parse kept. The query parses; this form only displays, label and box
    together (macros/forms.html field)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search tickets"), id="queue-q")
    brand = SelectField(_l("Brand"), id="queue-brand", validate_choice=False)
    form = SelectField(_l("Form"), id="queue-form", validate_choice=False)
    status = SelectField(_l("Status"), id="queue-status", validate_choice=False)
    priority = SelectField(_l("Priority"), id="queue-priority", validate_choice=False)
    tag = StringField(_l("Tag"), id="queue-tag")
    requester = SearchField(_l("Requester email"), id="queue-requester")
    org = StringField(_l("Organization"), id="queue-org")
    sort = SelectField(_l("Sort by"), id="queue-sort", choices=SORT_CHOICES)

    @classmethod
    def showing(
        cls, query: QueueQuery, brands, forms, statuses, org_error: str | None = None
    ) -> "QueueFilterForm":
        """The filters of `query`: the agent's `brands` and inquiry `forms`, the `statuses`
        its queue can hold; `org_error` beside the organization box."""
        filters = cls(
            formdata=None,
            data={
                "q": query.q,
                "brand": query.brand,
                "form": str(query.form) if query.form else "",
                "status": query.status,
                "priority": query.priority,
                "tag": query.tag,
                "requester": query.requester,
                "org": query.org_text,
                "sort": query.sort,
            },
        )
        filters.brand.choices = [SelectChoice("", _l("Any brand"))] + [
            SelectChoice(b.slug, b.name) for b in brands
        ]
        filters.form.choices = [SelectChoice("", _l("Any form"))] + [
            SelectChoice(str(f.id), _form_name(f, brands)) for f in forms
        ]
        filters.status.choices = [SelectChoice("", _l("Any status"))] + [
            SelectChoice(value, STATUS_LABELS.get(value, value)) for value in statuses
        ]
        filters.priority.choices = [SelectChoice("", _l("Any priority"))] + [
            SelectChoice(value, PRIORITY_LABELS[value]) for value in TICKET_PRIORITIES
        ]
        if org_error:
            filters.org.errors = [org_error]
        return filters


def _form_name(form, brands) -> str:
    """An inquiry form's name in its brand's language, the brand said when there are several."""
    brand = next(b for b in brands if b.id == form.brand_id)
    name = form.names.get(brand.default_locale) or next(iter(form.names.values()), "") or form.id
    return f"{name} ({brand.name})" if len(brands) > 1 else str(name)


class ConfirmForm(FlaskForm):
    """An action confirmed on its own page (trash, restore, purge): the CSRF token and
    confirmed=yes. Anything else (a GET, a POST without it) shows the question again."""

    confirmed = HiddenField(validators=[AnyOf(["yes"])])


class BlockForm(ConfirmForm):
    """Blocking a requester, confirmed: whom (their address; the brand it is done for comes
    from the query) and why, for the system log."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        filters=[_strip],
        validators=[
            Length(max=500, message=_l("The reason is too long (at most 500 characters)."))
        ],
    )


@dataclass(frozen=True)
class RequesterQuery:
    """?email=&brand= of the block and unblock pages: the requester's address (too long:
    none) and the brand's id it is done for."""

    email: str = ""
    brand_id: int | None = None

    @classmethod
    def from_args(cls, args) -> "RequesterQuery":
        email = (args.get("email") or "").strip().lower()
        return cls(
            email=email if len(email) <= MAX_EMAIL else "",
            brand_id=parse_id(args.get("brand")),
        )
