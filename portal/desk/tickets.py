"""Tickets from inquiry forms: which fields show, checking answers, creating a ticket exactly once,
private links, and replies through them."""

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.people import User
from portal.desk import assignment, files
from portal.desk.models import (
    CHOICE_TYPES,
    FormField,
    InquiryForm,
    SuggestionClick,
    Ticket,
    TicketMessage,
)

MAX_SUBJECT = 200
MAX_DESCRIPTION = 20_000
MAX_NAME = 200
MAX_ANSWER = 5_000
MAX_PATTERN_INPUT = 300  # a pattern runs on short input only
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]+\.[^@\s<>\"',;]{2,}$")
KEY_SALT = "inquiry-form-key"
LINK_SALT = "ticket-link"


def localized(texts: dict | None, locale: str, fallback: str) -> str:
    """A per-locale text in this locale, else the brand's default, else any."""
    texts = texts or {}
    return texts.get(locale) or texts.get(fallback) or next(iter(texts.values()), "")


def valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value or "")) and len(value) <= 254


# -- who may use a form --------------------------------------------------------------------


def form_usable_by(form: InquiryForm, signed_in: bool, org_id: int | None) -> bool:
    """Everyone; signed-in customers only; or members of the chosen organizations only. A form
    someone may not use is not listed and answers 404 by URL."""
    if form.audience == "everyone":
        return True
    if form.audience == "signed_in":
        return signed_in
    if form.audience == "organizations":
        return org_id is not None and org_id in (form.organization_ids or [])
    return False


# -- which fields show --------------------------------------------------------------------


def _matches(answer, expected: str) -> bool:
    if isinstance(answer, list):
        return expected in answer
    if isinstance(answer, bool):
        return expected.lower() in (("yes", "true", "1", "on") if answer else ("no", "false", "0"))
    return answer is not None and str(answer) == expected


def shown_fields(form: InquiryForm, answers: dict) -> list[FormField]:
    """The fields to show given the answers so far, in order. A field with a condition shows
    only when the field it depends on shows and has the expected value (evaluated here, on the
    server, with or without JavaScript)."""
    shown: dict[str, FormField] = {}
    by_key = {f.key: f for f in form.fields}
    for f in form.fields:
        if f.type == "hidden":
            continue
        if f.condition_key:
            parent = by_key.get(f.condition_key)
            if parent is None or parent.key not in shown:
                continue
            if not _matches(answers.get(parent.key), f.condition_value or ""):
                continue
        shown[f.key] = f
    return list(shown.values())


# -- checking answers ---------------------------------------------------------------------


@dataclass
class Submission:
    """What a visitor sent, checked: values to keep and error codes per input name."""

    name: str = ""
    email: str = ""
    subject: str = ""
    description: str = ""
    answers: dict = field(default_factory=dict)  # key -> str | list[str] | bool | None
    hidden: dict = field(default_factory=dict)  # key -> value from the URL's query
    errors: dict = field(default_factory=dict)  # input name -> error code

    @property
    def ok(self) -> bool:
        return not self.errors


def _option_values(f: FormField) -> list[str]:
    return [str(o.get("value")) for o in (f.options or []) if o.get("value") is not None]


def _check_answer(f: FormField, raw: list[str]) -> tuple[object, str | None]:
    """(value, error code) for one shown field from its submitted strings."""
    values = [v.strip() for v in raw if v is not None]
    first = values[0] if values else ""
    if f.type in ("multiselect",) or (f.type == "checkbox" and f.options):
        allowed = _option_values(f)
        chosen = [v for v in dict.fromkeys(values) if v]
        if any(v not in allowed for v in chosen):
            return chosen, "invalid_choice"
        if f.required and not chosen:
            return chosen, "required"
        return chosen, None
    if f.type == "checkbox":  # one yes/no box
        checked = first.lower() in ("1", "on", "yes", "true")
        return checked, ("required" if f.required and not checked else None)
    if f.type == "file":
        return None, None  # files are checked apart
    if not first:
        return "", ("required" if f.required else None)
    if len(first) > MAX_ANSWER:
        return first[:MAX_ANSWER], "too_long"
    if f.type in ("dropdown", "radio"):
        return first, (None if first in _option_values(f) else "invalid_choice")
    if f.type == "email":
        return first, (None if valid_email(first) else "invalid_email")
    if f.type == "number":
        try:
            number = float(first.replace(",", "."))
        except ValueError:
            return first, "not_a_number"
        if not math.isfinite(number):
            return first, "not_a_number"
        if f.min_value is not None and number < f.min_value:
            return first, "too_small"
        if f.max_value is not None and number > f.max_value:
            return first, "too_large"
        return first, None
    if f.type == "date":
        try:
            date.fromisoformat(first)
        except ValueError:
            return first, "not_a_date"
        return first, None
    if f.min_length is not None and len(first) < f.min_length:
        return first, "too_short"
    if f.max_length is not None and len(first) > f.max_length:
        return first, "too_long"
    if f.pattern:
        if len(first) > MAX_PATTERN_INPUT:
            return first, "too_long"  # (a form's pattern never runs over long input: ReDoS)
        try:
            if not re.fullmatch(f.pattern, first):
                return first, "pattern"
        except re.error:
            return first, None  # a builder-side mistake is not the visitor's
    return first, None


def check_submission(
    form: InquiryForm,
    values: dict[str, list[str]],
    query: dict[str, str],
    signed_in: bool,
) -> Submission:
    """Checks every shown field (hidden by a condition: not asked, not kept) and the fixed
    ones. `values` maps input names to submitted strings; answers are keyed by field key."""

    def one(name: str) -> str:
        got = values.get(name) or [""]
        return (got[0] or "").strip()

    sub = Submission(
        name=one("name")[:MAX_NAME],
        email=one("email")[:254].lower(),
        subject=one("subject"),
        description=(values.get("description") or [""])[0].strip(),
    )
    if not signed_in:
        if not sub.name:
            sub.errors["name"] = "required"
        if not sub.email:
            sub.errors["email"] = "required"
        elif not valid_email(sub.email):
            sub.errors["email"] = "invalid_email"
    if not sub.subject:
        sub.errors["subject"] = "required"
    elif len(sub.subject) > MAX_SUBJECT:
        sub.errors["subject"] = "too_long"
    if not sub.description:
        sub.errors["description"] = "required"
    elif len(sub.description) > MAX_DESCRIPTION:
        sub.errors["description"] = "too_long"
    # Conditions look at the raw answers first, so a chain (A -> B -> C) settles in one pass.
    raw_answers = {f.key: _check_answer(f, values.get(f"f_{f.key}", []))[0] for f in form.fields}
    for f in shown_fields(form, raw_answers):
        value, error = _check_answer(f, values.get(f"f_{f.key}", []))
        sub.answers[f.key] = value
        if error:
            sub.errors[f"f_{f.key}"] = error
    for f in form.fields:
        if f.type == "hidden" and f.query_param:
            given = (query.get(f.query_param) or "").strip()
            sub.hidden[f.key] = "".join(ch for ch in given if ch.isprintable())[:200]
    return sub


def answers_as_submitted(form: InquiryForm, sub: Submission, locale: str, default: str) -> list:
    """The answers with the labels the requester saw: a ticket keeps these whatever happens to
    the form later."""
    out = []
    for f in form.fields:
        if f.key not in sub.answers and f.key not in sub.hidden:
            continue
        value = sub.answers.get(f.key, sub.hidden.get(f.key))
        labels = {
            str(o.get("value")): localized(o.get("labels"), locale, default) or str(o.get("value"))
            for o in (f.options or [])
        }
        if isinstance(value, list):
            display = ", ".join(labels.get(v, v) for v in value)
        elif isinstance(value, bool):
            display = "yes" if value else "no"
        elif f.type in CHOICE_TYPES:
            display = labels.get(value, value or "")
        else:
            display = value or ""
        out.append(
            {
                "key": f.key,
                "label": localized(f.labels, locale, default) or f.key,
                "type": f.type,
                "value": value,
                "display": display,
            }
        )
    return out


# -- submission keys ----------------------------------------------------------------------


def issue_key(secret_key: str) -> str:
    """A one-time key for one render of a form, signed with the time it was issued."""
    return TimestampSigner(secret_key, salt=KEY_SALT).sign(secrets.token_hex(16)).decode()


def open_key(secret_key: str, token: str | None, max_age: int) -> tuple[str | None, int | None]:
    """(the key, its age in seconds), or (None, None) when forged, malformed or expired."""
    if not token or len(token) > 200:
        return None, None
    signer = TimestampSigner(secret_key, salt=KEY_SALT)
    try:
        key, issued = signer.unsign(token, max_age=max_age, return_timestamp=True)
    except (BadSignature, SignatureExpired):
        return None, None
    key = key.decode()
    if not re.fullmatch(r"[0-9a-f]{32}", key):
        return None, None
    return key, issued


# -- creating -----------------------------------------------------------------------------


def existing_ticket(session: Session, submission_key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.submission_key == submission_key))


def create_ticket(
    session: Session,
    *,
    form: InquiryForm,
    locale: str,
    sub: Submission,
    answers: list,
    requester_id: int | None,
    details: dict,
    submission_key: str,
    now: datetime,
    before_commit=None,
) -> tuple[Ticket, bool]:
    """The ticket for this submission key: made now (True), or the one an earlier send of the
    same form made (False). The unique key decides, so parallel retries make one ticket. A
    signed-in requester's organization is the ticket's, so colleagues see it when it shares."""
    found = existing_ticket(session, submission_key)
    if found is not None:
        return found, False
    requester = session.get(User, requester_id) if requester_id is not None else None
    ticket = Ticket(
        brand_id=form.brand_id,
        locale=locale,
        form_id=form.id,
        form_version=form.version,
        form_name=localized(form.names, locale, locale)[:200],
        subject=sub.subject,
        description=sub.description,
        status="new",
        channel="web",
        requester_id=requester_id,
        requester_name=sub.name,
        requester_email=sub.email,
        customer_org_id=requester.customer_org_id if requester is not None else None,
        answers=answers,
        details=details,
        submission_key=submission_key,
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    try:
        session.flush()
        session.add(
            TicketMessage(
                ticket_id=ticket.id,
                author_id=requester_id,
                author_name=sub.name,
                author_email=sub.email,
                from_requester=True,
                public=True,
                body=sub.description,
                channel="web",
                created_at=now,
            )
        )
        session.flush()
        files.attach_staged(session, submission_key, ticket)
        assignment.route_new_ticket(session, ticket, now)
        if before_commit is not None:
            before_commit(ticket)
        session.commit()
    except IntegrityError:
        session.rollback()
        found = existing_ticket(session, submission_key)
        if found is None:
            raise
        return found, False
    return ticket, True


# -- private links --------------------------------------------------------------------------


def link_token(secret_key: str, ticket: Ticket) -> str:
    return URLSafeSerializer(secret_key, salt=LINK_SALT).dumps([ticket.id, ticket.link_secret])


def ticket_for_link(session: Session, secret_key: str, ticket_id: int, token: str | None):
    """The ticket when the token was made for exactly this ticket and is not revoked; else
    None (the caller answers 404, as for an unknown id)."""
    if not token or len(token) > 300:
        return None
    try:
        signed_id, secret = URLSafeSerializer(secret_key, salt=LINK_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_id != ticket_id or not isinstance(secret, str):
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not secrets.compare_digest(ticket.link_secret, secret):
        return None
    return ticket


def revoke_links(session: Session, ticket: Ticket) -> None:
    ticket.link_secret = secrets.token_hex(16)


def add_requester_reply(
    session: Session, ticket: Ticket, body: str, now: datetime, submission_key: str | None = None
) -> TicketMessage:
    """A public reply from the requester; a solved ticket opens again."""
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=ticket.requester_id,
        author_name=ticket.requester_name,
        author_email=ticket.requester_email,
        from_requester=True,
        public=True,
        body=body,
        channel="web",
        created_at=now,
    )
    session.add(message)
    if ticket.status in ("solved", "pending"):
        ticket.status = "open"
    ticket.updated_at = now
    session.flush()
    if submission_key:
        files.attach_staged(session, submission_key, ticket, message)
    return message


def public_messages(session: Session, ticket: Ticket) -> list[TicketMessage]:
    """What the requester may read: never internal notes."""
    return list(
        session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id, TicketMessage.public.is_(True))
            .order_by(TicketMessage.id)
        )
    )


@dataclass
class Deflection:
    """Forms in which a suggested article was opened, and how many of them sent no ticket."""

    opened: int
    no_ticket: int

    @property
    def rate(self) -> float:
        return self.no_ticket / self.opened if self.opened else 0.0


def deflection(
    session: Session, brand_ids: list[int] | None, since: datetime, brand_id: int | None = None
) -> Deflection:
    """Counted per form render (submission key): opening three suggestions counts once."""
    keys = (
        select(SuggestionClick.submission_key.label("key"))
        .where(SuggestionClick.created_at >= since)
        .distinct()
    )
    if brand_ids is not None:
        keys = keys.where(SuggestionClick.brand_id.in_(brand_ids))
    if brand_id is not None:
        keys = keys.where(SuggestionClick.brand_id == brand_id)
    keys = keys.subquery()
    opened, followed = session.execute(
        select(func.count(keys.c.key), func.count(Ticket.id)).outerjoin(
            Ticket, Ticket.submission_key == keys.c.key
        )
    ).one()
    return Deflection(opened=int(opened), no_ticket=int(opened) - int(followed))
