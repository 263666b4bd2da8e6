"""The customer side's forms: sending an inquiry form, replying, sharing, rating. Each reads
only the inputs it names; CSRF is checked for every POST by the app's CSRFProtect (whose error
handler shows the inquiry form again with everything typed), so these forms do not check it
twice."""

from dataclasses import dataclass

from flask import g, request
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from portal.desk import intake
from portal.desk.models import InquiryForm
from portal.desk.tickets import localized
from portal.web.fields import StringListField

FIXED_INPUTS = ("name", "email", "subject", "description")


class _Posted(FlaskForm):
    class Meta:
        csrf = False  # checked before the view, for every POST (see the module's docstring)


class InquiryPost(_Posted):
    """The page's own inputs around an inquiry form's questions."""

    key = HiddenField()
    came_from = HiddenField(name="from")
    email = StringField()  # also read among the answers; here for the per-address rate limit
    shown = HiddenField()
    website = StringField()  # the honeypot: people leave it empty
    action = HiddenField()
    remove_file = StringListField()

    @property
    def refresh(self) -> bool:
        """Asked only for the questions the answers open (htmx, or the no-JavaScript button)."""
        return self.action.data == "refresh"

    def answers(self, form: InquiryForm) -> dict[str, list[str]]:
        return Answers(form).read(request.form)

    def inquiry(self, form: InquiryForm, query: dict) -> intake.Inquiry:
        """What was sent, for intake.submit: the fixed inputs and the form's questions
        (Answers), the URL's query for hidden fields, and the chosen files."""
        return intake.Inquiry(
            values=self.answers(form),
            query={k: v for k, v in query.items() if k != "form"},
            uploads=[
                intake.Upload(name, storage.filename, storage.stream)
                for name, storage in request.files.items(multi=True)
                if storage and storage.filename
            ],
            removed_files=set(self.remove_file.data),
            asked=set(filter(None, (self.shown.data or "").split(","))),
            honeypot=self.website.data or "",
            refresh=self.refresh,
        )


def posted() -> InquiryPost:
    """This request's InquiryPost, read once: the rate limits, the view and the page all ask."""
    if "inquiry_post" not in g:
        g.inquiry_post = InquiryPost()
    return g.inquiry_post


def came_from() -> str | None:
    """The page the visitor was on before the form (a hidden field of a POST; none on GET:
    reading it there would build a form for nothing)."""
    return posted().came_from.data if request.method == "POST" else None


class Answers:
    """The inputs of one inquiry form: the fixed ones and one per question (`f_<key>`), each
    as the list of strings sent (several for multiple choice)."""

    def __init__(self, form: InquiryForm):
        self.names = [*FIXED_INPUTS, *(f"f_{f.key}" for f in form.fields)]

    def read(self, formdata) -> dict[str, list[str]]:
        return {name: formdata.getlist(name) for name in self.names if name in formdata}

    def prefill(self, args) -> dict[str, str]:
        """Answers given in a link to the form (?f_<key>=...), shown as typed."""
        return {k: v for k, v in args.items() if k.startswith("f_")}


class RequesterReplyForm(_Posted):
    """The reply box of a request's page (its requester, or anyone it is shared with): the
    text; its files come with the same post (`attachments`)."""

    body = TextAreaField(default="")

    @property
    def text(self) -> str:
        return (self.body.data or "").strip()


class ShareForm(_Posted):
    """Share with people by email, or with the whole organization (one form, two buttons)."""

    emails = StringField()
    action = StringField()  # the button: people (the default), organization or private

    @property
    def with_organization(self) -> bool | None:
        """True: share with the organization; False: stop; None: share with people."""
        return {"organization": True, "private": False}.get(self.action.data or "people")


class RatingForm(_Posted):
    """Good or bad (two radio buttons), and an optional comment; desk checks the score."""

    score = StringField()
    comment = TextAreaField()


# -- the form as shown: every decision the page makes, made here --------------------------


@dataclass
class Choice:
    value: str
    label: str
    chosen: bool


@dataclass
class Question:
    """One shown question of an inquiry form, ready to display."""

    key: str
    name: str  # the input's name (and id): f_<key>
    kind: str  # textarea, dropdown, multiselect, choices (a radio or checkbox group), checkbox,
    # file or input
    type: str  # the form field's type
    input_type: str  # for kind "input": text, email or date
    label: str
    help: str
    value: object
    required: bool
    max_length: int | None
    refresh: bool  # its answer decides which questions show
    invalid: bool
    described: str  # aria-describedby
    choices: list[Choice]
    staged: list  # files kept for this question
    file_errors: list[str]  # "name: why" for each refused file
    error: str | None  # the message for its answer

    @property
    def grouped(self) -> bool:
        """Shown as a group of choices (a role="group" labelled by the question)."""
        return self.kind == "choices" or (self.kind == "multiselect" and bool(self.choices))

    @property
    def boxes_required(self) -> bool:
        """A required group of checkboxes, which has no `required` state: said in words."""
        return self.required and self.kind == "choices" and self.type == "checkbox"


@dataclass
class InquiryPage:
    """What form.html shows of a form and an intake.Outcome: which questions, the values kept,
    a message per field, the kept files."""

    name: str
    description: str
    signed_in: bool
    sub: intake.Submission
    errors: dict[str, str]  # input name -> message (fixed inputs)
    has_errors: bool
    questions: list[Question]
    shown: str  # the shown questions' keys, sent back to tell newly opened ones apart
    controls: bool  # some answer decides which questions show
    attachments: list  # files kept for the request itself
    attachment_errors: list[str]

    def messages(self, name: str) -> list[str]:
        """The message beside a fixed input, as a list (none, or one)."""
        return [self.errors[name]] if name in self.errors else []

    @classmethod
    def of(cls, hc, form: InquiryForm, outcome: intake.Outcome, message, signed_in: bool):
        def text(texts):
            return localized(texts, hc.locale, hc.brand.default_locale)

        sub = outcome.sub
        controls = {f.condition_key for f in form.fields if f.condition_key}
        shown = intake.shown_fields(form, sub.answers)
        questions = [_question(f, sub, outcome, text, message, f.key in controls) for f in shown]
        return cls(
            name=text(form.names),
            description=text(form.descriptions),
            signed_in=signed_in,
            sub=sub,
            errors={k: message(v) for k, v in sub.errors.items()},
            has_errors=bool(sub.errors or outcome.file_errors),
            questions=questions,
            shown=",".join(f.key for f in shown),
            controls=bool(controls),
            attachments=[s for s in outcome.staged if not s.field_key],
            attachment_errors=_file_errors(outcome, "attachments", message),
        )


def _file_errors(outcome, name, message) -> list[str]:
    return [f"{r.filename}: {message(r.code)}" for r in outcome.file_errors.get(name, [])]


_KINDS = {"textarea": "textarea", "dropdown": "dropdown", "multiselect": "multiselect"}
_INPUT_TYPES = {"email": "email", "number": "text", "date": "date"}


def _question(f, sub, outcome, text, message, refresh: bool) -> Question:
    name = f"f_{f.key}"
    value = sub.answers.get(f.key)
    help_text = text(f.help)
    invalid = name in sub.errors or name in outcome.file_errors
    described = ((name + "-error ") if invalid else "") + ((name + "-help") if help_text else "")
    if f.type in ("radio", "checkbox") and f.options:
        kind = "choices"
    elif f.type in ("checkbox", "file"):
        kind = f.type
    else:
        kind = _KINDS.get(f.type, "input")
    chosen = value if isinstance(value, list) else [value]
    return Question(
        key=f.key,
        name=name,
        kind=kind,
        type=f.type,
        input_type=_INPUT_TYPES.get(f.type, "text"),
        label=text(f.labels) or f.key,
        help=help_text,
        value=value,
        required=f.required,
        max_length=f.max_length,
        refresh=refresh,
        invalid=invalid,
        described=described,
        choices=[
            Choice(
                str(o.get("value")),
                text(o.get("labels")) or str(o.get("value")),
                str(o.get("value")) in [str(c) for c in chosen if c is not None],
            )
            for o in (f.options or [])
        ],
        staged=[s for s in outcome.staged if s.field_key == f.key],
        file_errors=_file_errors(outcome, name, message),
        error=message(sub.errors[name]) if name in sub.errors else None,
    )
