"""Submitting a request: which questions a form asks, checking the answers, the form's one-time
submission key, and `submit`, the one operation every door (the form page, later mail and the
API) calls to turn a sent form into a ticket with its message, files, routing and confirmation
(the "received" notification: portal.desk.automation.notifications, told by the ticket's event)."""

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk import assignment, blocking, files
from portal.desk.automation import events as automation
from portal.desk.models import (
    CHOICE_TYPES,
    FormField,
    InquiryForm,
    SuggestionClick,
    Ticket,
    TicketMessage,
)
from portal.desk.tickets import MAX_DESCRIPTION, localized, valid_email
from portal.mail.models import InboundMail

MAX_SUBJECT = 200
MAX_NAME = 200
MAX_ANSWER = 5_000
MAX_PATTERN_INPUT = 300  # a pattern runs on short input only
KEY_SALT = "inquiry-form-key"


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
    ask_fields: bool = True,
) -> Submission:
    """Checks every shown field (hidden by a condition: not asked, not kept) and the fixed
    ones. `values` maps input names to submitted strings; answers are keyed by field key.
    Without `ask_fields` (a mail), only the fixed ones."""

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
    if not ask_fields:
        return sub
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
    if not sub.answers and not sub.hidden:
        return out
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


def open_key(
    secret_key: str, token: str | None, max_age: int
) -> tuple[str | None, datetime | None]:
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


def note_suggestion_opened(
    session: Session,
    brand_id: int,
    form_id: int | None,
    article_id: int,
    submission_key: str,
    now: datetime,
) -> None:
    """A suggested article was opened from a form (shown under its `submission_key`): counted
    as deflected while no ticket follows with that key (tickets.deflection). A form of another
    brand is not recorded as its form."""
    form = session.get(InquiryForm, form_id) if form_id else None
    session.add(
        SuggestionClick(
            brand_id=brand_id,
            form_id=form.id if form is not None and form.brand_id == brand_id else None,
            article_id=article_id,
            submission_key=submission_key,
            created_at=now,
        )
    )
    session.commit()


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
    made = (sub, answers, requester_id, details, submission_key, now, before_commit)
    return _make_ticket(session, form, locale, *made)


def _make_ticket(
    session,
    form,
    locale,
    sub,
    answers,
    requester_id,
    details,
    submission_key,
    now,
    before_commit,
    channel="web",
    mail_id=None,
) -> tuple[Ticket, bool]:
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
        channel=channel,
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
        status_changed_at=now,
        requester_replied_at=now,
    )
    session.add(ticket)
    try:
        session.flush()
        first = TicketMessage(
            ticket_id=ticket.id,
            author_id=requester_id,
            author_name=sub.name,
            author_email=sub.email,
            from_requester=True,
            public=True,
            body=sub.description,
            channel=channel,
            inbound_mail_id=mail_id,
            # One mail, one message: its key is the ticket's submission key.
            mail_key=submission_key if channel == "email" else None,
            created_at=now,
        )
        session.add(first)
        session.flush()
        if mail_id is not None:  # the mail it came from knows its ticket before any answer
            session.execute(
                update(InboundMail)
                .where(InboundMail.id == mail_id)
                .values(ticket_id=ticket.id, ticket_message_id=first.id)
            )
        files.attach_staged(session, submission_key, ticket)
        assignment.route_new_ticket(session, ticket, now)
        automation.emit(session, automation.Event(automation.TICKET_CREATED, ticket, None, now))
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


# -- submitting: the one operation ----------------------------------------------------------

# What a sending counts for the rate limits: a person fixing mistakes is not counted; an
# accepted send and the signs of a robot are, and so is every sending that stored files.
ACCEPTED, ABUSE, FILES = "accepted", "abuse", "files"

# What became of a sending (Outcome.state).
UNSENT = "unsent"  # nothing sent yet: the form as first shown (a door's own starting point)
SENT = "sent"  # the ticket exists: made now, or by an earlier send with the same key
EXPIRED = "expired"  # no valid key (forged, or the form was open for days): nothing kept
REFRESHED = "refreshed"  # only the questions the answers open were asked for: nothing marked
DROPPED = "dropped"  # the honeypot was filled: thanked, nothing made
TOO_QUICK = "too_quick"  # sent sooner than a person can fill a form in
REFUSED = "refused"  # answers to fix, refused files, or questions the answers newly opened
BLOCKED = "blocked"  # requests from this address are not accepted (blocking): nothing made


@dataclass(frozen=True)
class Requester:
    """Who submits: a signed-in customer (the account gives the name and the address), or a
    visitor (`account` None) who gives them with the answers (`name`, `email`)."""

    account: User | None = None

    @property
    def signed_in(self) -> bool:
        return self.account is not None

    @property
    def org_id(self) -> int | None:
        return self.account.customer_org_id if self.account is not None else None


@dataclass(frozen=True)
class Upload:
    """One file sent with the form: its input ("attachments" or "f_<field key>"), its name and
    its bytes."""

    input: str
    filename: str
    stream: BinaryIO


@dataclass
class Inquiry:
    """One sending of a form as a door received it, nothing of HTTP in it: the strings per input
    name, the URL's query (for hidden fields), the files, and what the sender's page showed."""

    values: dict[str, list[str]]
    query: dict[str, str] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    removed_files: set[str] = field(default_factory=set)  # tokens of staged files taken off
    asked: set[str] | None = None  # field keys the page showed; None: whatever shows now
    honeypot: str = ""
    refresh: bool = False  # only show the questions the answers open; send nothing
    # "email": a mail to a support address. It answers no questions of the form (only name,
    # address, subject and text), and a refused file refuses only itself: the ticket is made
    # and the door names the refused files (Outcome.file_errors). `mail_id`: the mail it is.
    channel: str = "web"
    mail_id: int | None = None


@dataclass
class Outcome:
    """What `submit` did: the ticket, or what to show again (values kept, an error code per
    input name, each refused file) and why."""

    state: str
    sub: Submission
    ticket: Ticket | None = None
    created: bool = False
    staged: list = field(default_factory=list)  # the files kept under the key, not sent yet
    file_errors: dict[str, list[files.Refusal]] = field(default_factory=dict)
    newly_shown: bool = False  # answers opened questions the page did not show
    counts_as: str | None = None  # ACCEPTED, ABUSE, FILES or None (rate limits)

    @property
    def errors(self) -> dict[str, str]:
        """An error code per input name (a refused file's input: its first refusal's code)."""
        return {**self.sub.errors, **{k: v[0].code for k, v in self.file_errors.items()}}


def submit(
    session: Session,
    actor: Requester,
    form: InquiryForm,
    inquiry: Inquiry,
    *,
    key: str | None,
    issued: datetime | None,
    brand: Brand,
    locale: str,
    details: dict,
    uploads_dir: Path,
    now: datetime,
    min_seconds: int = 0,
    also=None,
) -> Outcome:
    """Sends `inquiry` through `form` as `actor`: checks every shown question, keeps the files
    staged under the submission `key` (the form's one-time key, `issued` when the form was
    shown), and when all is well makes the ticket with its first message and files, routes it
    and queues the confirmation mail (the "received" notification), in one transaction. A
    retried key lands on the same ticket (one ticket, one mail). `details` are what the door
    knows besides (user agent, the article the visitor came from). `also(ticket)`: what the
    door records in the same transaction as a new ticket (the mail it came from, done). An
    address that is blocked (portal.desk.blocking) makes nothing: BLOCKED."""
    # A mail answers none of the form's own questions: only name, address, subject and text.
    ask_fields = inquiry.channel != "email"
    sub = check_submission(form, inquiry.values, inquiry.query, actor.signed_in, ask_fields)
    if key is None:
        return Outcome(EXPIRED, sub)
    done = existing_ticket(session, key)
    if done is not None:  # a second click or a retry of a form already sent
        return Outcome(SENT, sub, ticket=done)
    outcome = _keep_files(session, form, inquiry, sub, key, brand, uploads_dir, now)
    if inquiry.refresh:
        sub.errors = {}
        outcome.state = REFRESHED
        return outcome
    if inquiry.honeypot:
        outcome.state, outcome.counts_as = DROPPED, ABUSE
        return outcome
    if min_seconds and issued is not None and (now - issued).total_seconds() < min_seconds:
        outcome.state, outcome.counts_as = TOO_QUICK, ABUSE
        return outcome
    if blocking.is_blocked(session, actor.account.email if actor.signed_in else sub.email):
        # Everything typed and every file kept stays with the form, as for any refusal.
        outcome.state, outcome.counts_as = BLOCKED, ABUSE
        return outcome
    outcome.newly_shown = _ask_newly_shown(form, inquiry, sub)
    files_refuse = bool(outcome.file_errors) and inquiry.channel != "email"
    if outcome.newly_shown or sub.errors or files_refuse:
        return outcome  # REFUSED
    made = (key, brand, locale, details, now, outcome, inquiry, also)
    return _open(session, actor, form, sub, *made)


def _keep_files(session, form, inquiry, sub, key, brand, uploads_dir, now) -> Outcome:
    """Removes the files the sender took off, keeps each accepted new one (a refused file is
    refused alone) and asks for required files still missing."""
    if inquiry.channel == "email" and not inquiry.uploads:
        return Outcome(REFUSED, sub)  # (no questions, no files: nothing to keep or ask)
    files.unstage(session, key, inquiry.removed_files)
    asked = shown_fields(form, sub.answers) if inquiry.channel != "email" else []
    shown = {f.key: f for f in asked}
    uploads = []
    for upload in inquiry.uploads:
        field_key = upload.input[2:] if upload.input.startswith("f_") else None
        if upload.input != "attachments" and (
            field_key not in shown or shown[field_key].type != "file"
        ):
            continue
        uploads.append((upload.input, field_key, upload.filename, upload.stream))
    refusals = files.stage_uploads(
        session, uploads_dir, uploads, brand_id=brand.id, submission_key=key, now=now
    )
    file_errors: dict[str, list[files.Refusal]] = {}
    for refusal in refusals:
        file_errors.setdefault(refusal.field, []).append(refusal)
    staged = files.staged(session, key)
    for f in shown.values():
        if f.type == "file" and f.required and not any(s.field_key == f.key for s in staged):
            sub.errors.setdefault(f"f_{f.key}", "required")
    return Outcome(
        REFUSED, sub, staged=staged, file_errors=file_errors, counts_as=FILES if uploads else None
    )


def _ask_newly_shown(form: InquiryForm, inquiry: Inquiry, sub: Submission) -> bool:
    """Questions the answers opened that the sender's page did not show (without JavaScript)
    are asked before sending: not marked wrong, only asked. True when there are any."""
    if inquiry.asked is None or inquiry.channel == "email":
        return False
    newly = {f"f_{f.key}" for f in shown_fields(form, sub.answers) if f.key not in inquiry.asked}
    if newly:
        sub.errors = {k: v for k, v in sub.errors.items() if k not in newly}
    return bool(newly)


def _open(
    session, actor, form, sub, key, brand, locale, details, now, outcome, inquiry, also
) -> Outcome:
    if actor.account is not None:
        sub.name, sub.email = actor.account.name, actor.account.email
    answers = answers_as_submitted(form, sub, locale, brand.default_locale)

    ticket, created = _make_ticket(
        session,
        form,
        locale,
        sub,
        answers,
        actor.account.id if actor.account is not None else None,
        {"hidden": sub.hidden, **details},
        key,
        now,
        also,
        inquiry.channel,
        inquiry.mail_id,
    )
    outcome.state, outcome.ticket, outcome.created = SENT, ticket, created
    if created:
        outcome.counts_as = ACCEPTED
    return outcome
