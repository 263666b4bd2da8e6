"""The ordered stages every received message goes through, whichever door it came in by.

store (store.keep, before the sender is answered) -> parse -> classify -> a blocked sender's
mail held -> identify the sender
-> match the thread -> attachments -> a new ticket (portal.desk.intake.submit) or a reply
(portal.desk.replies.reply), the operations the portal's own pages call. Each stage is a small
function of what the ones before learned (`Arrival`); `process` runs them for one stored
message, claimed so that it runs once, and records what became of it (InboundMail.status,
reason). A message that breaks a stage is kept, marked failed with the reason, and the caller
goes on with the next one.
"""

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal.desk import blocking, files, intake, replies
from portal.desk.customer_requests import MAX_SHARES, Customer, ticket_for
from portal.desk.models import InquiryForm, OutboxMail, Ticket, TicketShare
from portal.desk.tickets import valid_email
from portal.mail import outbox, tokens
from portal.mail.inbound import classify
from portal.mail.inbound.bodies import split_quoted
from portal.mail.inbound.parse import ParsedMail, ParseError, parse
from portal.mail.inbound.recipients import known_address, our_addresses
from portal.mail.models import (
    DONE,
    DUPLICATE,
    FAILED,
    HELD,
    IGNORED,
    RECEIVED,
    BouncingAddress,
    InboundMail,
    MailAddress,
    Mailbox,
)
from portal.mail.requesters import mail_about_request
from portal.web.downloads import uploads_dir

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # a worker owns a message this long; after it, another may take it
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"


class Stop(Exception):
    """A stage decided the message makes nothing: it ends as `status`, for `reason`."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason[:500]


@dataclass
class Arrival:
    """What the stages learn about one message, in order."""

    row: InboundMail
    now: datetime
    force: bool = False  # an admin's retry: the sender's rate limit does not hold it again
    mail: ParsedMail | None = None
    message_id: str = ""  # the Message-ID header, or <sha256:...> of the bytes without one
    address: MailAddress | None = None  # the support address it was sent to
    recipients: list[str] = field(default_factory=list)  # envelope, then To and Cc
    brand: Brand | None = None
    key: str = ""  # one mail, one ticket or message (from its Message-ID)
    account: User | None = None  # the sender's account, if the address has one
    ticket: Ticket | None = None  # the ticket it joins
    joined_by: str | None = None
    not_joined: Ticket | None = None  # a ticket it named but may not join
    uploads: list[intake.Upload] = field(default_factory=list)
    ours: set[str] | None = None  # our own addresses (recipients.our_addresses), once

    def our_addresses(self, session: Session) -> set[str]:
        if self.ours is None:
            self.ours = our_addresses(session)
        return self.ours


# -- running the stages ----------------------------------------------------------------------


def process(
    session: Session,
    mail_id: int,
    now: datetime,
    *,
    force: bool = False,
    claimed: bool = False,
):
    """Run the stages for one stored message, once (claimed; committed): the row as it ended,
    or None when another worker has it or it was processed already. `claimed`: the caller
    stored it already claimed (store.keep(claim_seconds=...)) and hands it over."""
    if not claimed and not _claim(session, mail_id, now):
        return None
    row = session.get(InboundMail, mail_id, options=[undefer(InboundMail.raw)])
    if row is None or row.status != RECEIVED:
        return None
    arrival = Arrival(row=row, now=now, force=force)
    try:
        for stage in STAGES:
            stage(session, arrival)
    except Stop as stop:
        session.rollback()
        _finish(session, arrival, stop.status, stop.reason)
    except Exception as exc:  # one bad message never stops the listener nor the fetcher
        session.rollback()
        log.exception("Processing received mail %s failed", mail_id)
        _finish(session, arrival, FAILED, f"internal error ({type(exc).__name__})")
    return session.get(InboundMail, mail_id)


def retry(session: Session, mail_id: int, now: datetime) -> InboundMail | None:
    """An admin's retry of a FAILED or HELD message: processed again at once (committed),
    without the sender's rate limit. None when it is in neither state."""
    changed = session.execute(
        update(InboundMail)
        .where(InboundMail.id == mail_id, InboundMail.status.in_((FAILED, HELD)))
        .values(status=RECEIVED, reason=None, claimed_until=None)
    ).rowcount
    session.commit()
    if not changed:
        return None
    return process(session, mail_id, now, force=True)


def process_due(session: Session, now: datetime, limit: int = 100) -> int:
    """Process the messages still RECEIVED and not claimed (a crash came between storing and
    processing, or they were fetched over IMAP), oldest first; how many were processed."""
    ids = session.scalars(
        select(InboundMail.id)
        .where(
            InboundMail.status == RECEIVED,
            or_(InboundMail.claimed_until.is_(None), InboundMail.claimed_until < now),
        )
        .order_by(InboundMail.id)
        .limit(limit)
    ).all()
    session.rollback()
    return sum(1 for mail_id in ids if process(session, mail_id, now) is not None)


def _claim(session: Session, mail_id: int, now: datetime) -> bool:
    claimed = session.execute(
        update(InboundMail)
        .where(
            InboundMail.id == mail_id,
            InboundMail.status == RECEIVED,
            or_(InboundMail.claimed_until.is_(None), InboundMail.claimed_until < now),
        )
        .values(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=InboundMail.attempts + 1,
        )
    ).rowcount
    session.commit()
    return bool(claimed)


def _finish(session: Session, arrival: Arrival, status: str, reason: str | None) -> None:
    """Record how a message ended (with what parsing learned, for the admins' list)."""
    row = session.get(InboundMail, arrival.row.id)
    row.status, row.reason, row.processed_at = status, reason, arrival.now
    row.claimed_until = None
    _note_facts(row, arrival)
    session.commit()


def _note_facts(row: InboundMail, arrival: Arrival) -> None:
    mail = arrival.mail
    if mail is None:
        return
    row.message_id = arrival.message_id
    row.sender = mail.sender.email[:254] or None
    row.subject = (mail.subject or "")[:255]
    if arrival.brand is not None:
        row.brand_id = arrival.brand.id
    if arrival.address is not None:
        row.address_id = arrival.address.id


# -- the stages, in order --------------------------------------------------------------------


def parse_stage(session: Session, arrival: Arrival) -> None:
    """Parse the raw bytes (charset fallbacks in parse); a message that cannot be read fails."""
    row = arrival.row
    try:
        mail = parse(row.raw)
    except ParseError as exc:
        raise Stop(FAILED, f"unreadable: {exc}") from exc
    arrival.mail = mail
    arrival.message_id = (mail.message_id or f"<sha256:{row.sha256}>")[:255]
    arrival.key = hashlib.sha256(f"mail:{arrival.message_id}".encode()).hexdigest()


def address_stage(session: Session, arrival: Arrival) -> None:
    """Which support address it was sent to: the envelope's recipients (the listener), the
    mailbox's address (IMAP), else the first known address among To and Cc."""
    row, mail = arrival.row, arrival.mail
    candidates = list(row.recipients or [])
    box = session.get(Mailbox, row.mailbox_id) if row.mailbox_id is not None else None
    if box is not None and box.address_id is not None:
        arrival.address = session.get(MailAddress, box.address_id)
    candidates += [a.email for a in (*mail.to, *mail.cc) if a.email]
    for candidate in candidates:
        if arrival.address is not None:
            break
        arrival.address = known_address(session, candidate)
    if arrival.address is None:
        if box is None:
            raise Stop(FAILED, "sent to no address of ours")
        arrival.brand = session.get(Brand, box.brand_id)
    else:
        arrival.brand = session.get(Brand, arrival.address.brand_id)
    if arrival.brand is None:
        raise Stop(FAILED, "the brand of this address is gone")
    # Known before the ticket's first mail is written: it is sent from this address, in the
    # thread of this message (written with the next statement).
    _note_facts(row, arrival)
    arrival.recipients = candidates  # (a reply address among them names its ticket: threading)


def duplicate_stage(session: Session, arrival: Arrival) -> None:
    """One Message-ID, one ticket or message: a copy (the same mail by the listener and a
    mailbox, or sent twice) makes nothing."""
    row = arrival.row
    earlier = session.scalar(
        select(InboundMail.id)
        .where(
            InboundMail.message_id == arrival.message_id,
            InboundMail.id != row.id,
            InboundMail.status.in_((DONE, IGNORED, HELD, RECEIVED)),
            InboundMail.id < row.id,
        )
        .limit(1)
    )
    if earlier is not None:
        raise Stop(DUPLICATE, f"the same Message-ID as received mail #{earlier}")


def classify_stage(session: Session, arrival: Arrival) -> None:
    """Nothing is made of, nor sent back to: our own mail, auto-replies, lists and bounces (a
    bounce marks the addresses that bounced); a sender over the rate limit is held."""
    mail, row = arrival.mail, arrival.row
    sender = mail.sender.email
    if not sender:
        raise Stop(FAILED, "no sender address (From)")
    if sender in arrival.our_addresses(session) or _is_our_message(session, mail.message_id):
        raise Stop(IGNORED, "our own mail")
    automatic = classify.automatic(mail)
    if automatic is not None:
        kind, reason = automatic
        if kind == classify.BOUNCE:
            _note_bounces(session, classify.bounced_recipients(mail), arrival.now)
        raise Stop(IGNORED, reason)
    if not arrival.force:
        limit, seconds = _sender_limit()
        recent = session.scalar(
            select(func.count())
            .select_from(InboundMail)
            .where(
                InboundMail.sender == sender,
                InboundMail.received_at > arrival.now - timedelta(seconds=seconds),
                InboundMail.status.in_((DONE, HELD, RECEIVED)),
                InboundMail.id != row.id,
            )
        )
        if recent >= limit:
            raise Stop(HELD, f"{sender} sent more than {limit} mails in {seconds // 60} minutes")


def blocked_stage(session: Session, arrival: Arrival) -> None:
    """Mail from a blocked address is held, whatever it is about: kept, listed for admins
    with the reason, and made into a ticket or reply only when retried after an unblock (a
    retry while still blocked holds it again)."""
    if blocking.is_blocked(session, arrival.mail.sender.email):
        raise Stop(HELD, blocking.MAIL_REASON)


def identify_stage(session: Session, arrival: Arrival) -> None:
    """The sender's account, by the From address alone (our own X- headers on inbound mail
    are never read)."""
    email = arrival.mail.sender.email
    arrival.account = session.scalar(
        select(User).where(func.lower(User.email) == email, User.active.is_(True))
    )


def thread_stage(session: Session, arrival: Arrival) -> None:
    """The ticket it answers: the signed tag of the reply address it was sent to, then
    In-Reply-To, then References (newest first) of mail we sent or received about a ticket,
    then `[#id]` in the subject. It joins only when its sender takes part in that ticket."""
    mail = arrival.mail
    for recipient in arrival.recipients:
        ticket_id = tokens.ticket_in_address(recipient, current_app.config["SECRET_KEY"])
        if ticket_id is not None:
            _consider(session, arrival, ticket_id, "address_token")
            break
    if arrival.ticket is None and arrival.not_joined is None:
        for how, ids in (("in_reply_to", mail.in_reply_to), ("references", mail.references[::-1])):
            ticket_id = _ticket_of_message_ids(session, ids)
            if ticket_id is not None:
                _consider(session, arrival, ticket_id, how)
                break
    if arrival.ticket is None and arrival.not_joined is None:
        ticket_id = tokens.ticket_in_subject(mail.subject)
        if ticket_id is not None:
            _consider(session, arrival, ticket_id, "subject_token")


def attachments_stage(session: Session, arrival: Arrival) -> None:
    """The files and inline images, to be checked by the same rules as a form's files."""
    arrival.uploads = [
        intake.Upload("attachments", a.filename, io.BytesIO(a.data))
        for a in arrival.mail.attachments
    ]


def deliver_stage(session: Session, arrival: Arrival) -> None:
    """A reply on the ticket it joins, else a new ticket; then the mail is done."""
    if arrival.ticket is not None:
        ticket, message, refused = _reply(session, arrival)
        _mark_done(arrival, ticket, message)
    else:  # (committed with its ticket, done: intake.submit's `also`)
        ticket, message, refused = _open_ticket(session, arrival)
    if refused:
        _tell_about_refused_files(session, arrival, ticket, refused)
    if session.new or session.dirty or arrival.ticket is not None or refused:
        session.commit()


STAGES = (
    parse_stage,
    address_stage,
    duplicate_stage,
    classify_stage,
    blocked_stage,
    identify_stage,
    thread_stage,
    attachments_stage,
    deliver_stage,
)


# -- threading -------------------------------------------------------------------------------


def _ticket_of_message_ids(session: Session, ids: list[str]) -> int | None:
    """The ticket of the first of `ids` that is a mail we sent or received about one."""
    for message_id in ids[:50]:
        found = session.scalar(
            select(OutboxMail.ticket_id).where(
                OutboxMail.message_id == message_id, OutboxMail.ticket_id.is_not(None)
            )
        ) or session.scalar(
            select(InboundMail.ticket_id).where(
                InboundMail.message_id == message_id, InboundMail.ticket_id.is_not(None)
            )
        )
        if found is not None:
            return found
    return None


def _consider(session: Session, arrival: Arrival, ticket_id: int, how: str) -> None:
    """Join `ticket_id` when it is of this brand and the sender takes part in it; a ticket of
    this brand it may not join is remembered, to be named by the new ticket."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.brand_id != arrival.brand.id or ticket.deleted_at is not None:
        return  # (a ticket in the trash is as gone: the mail makes a new one)
    if _takes_part(session, arrival, ticket):
        arrival.ticket, arrival.joined_by = ticket, how
    else:
        arrival.not_joined = ticket


def _takes_part(session: Session, arrival: Arrival, ticket: Ticket) -> bool:
    """The requester, someone it is shared with, or (with an account) a member of the
    organization that sees it: the people who may answer it on its page."""
    email = arrival.mail.sender.email
    if email == (ticket.requester_email or "").lower():
        return True
    shared = session.scalar(
        select(TicketShare.id).where(
            TicketShare.ticket_id == ticket.id, func.lower(TicketShare.email) == email
        )
    )
    if shared is not None:
        return True
    if arrival.account is None:  # (identify_stage ran before)
        return False
    customer = Customer.of(session, arrival.account)
    return ticket_for(session, customer, ticket.brand_id, ticket.id) is not None


def _is_our_message(session: Session, message_id: str | None) -> bool:
    if not message_id:
        return False
    return (
        session.scalar(select(OutboxMail.id).where(OutboxMail.message_id == message_id)) is not None
    )


# -- making the ticket or the reply ----------------------------------------------------------


def _text(arrival: Arrival) -> str:
    """What the sender wrote now: quoted history and signature folded away (the original
    stays downloadable as .eml)."""
    text, _folded = split_quoted(arrival.mail.text or "")
    return text.strip()[: intake.MAX_DESCRIPTION] or NO_TEXT


def _open_ticket(session: Session, arrival: Arrival):
    mail, brand = arrival.mail, arrival.brand
    form = _form_for(session, arrival)
    if form is None:
        raise Stop(FAILED, f"{brand.name} has no form for mail")
    sender = mail.sender
    values = {
        "name": [(sender.name or sender.email.partition("@")[0])[: intake.MAX_NAME]],
        "email": [sender.email],
        "subject": [_subject(mail.subject)],
        "description": [_text(arrival)],
    }
    details = {}  # (the mail itself is on the message: its .eml, how it joined)
    if arrival.not_joined is not None:
        details["mail_not_joined"] = {"ticket": arrival.not_joined.id, "reason": "not_participant"}
    outcome = intake.submit(
        session,
        intake.Requester(arrival.account),
        form,
        intake.Inquiry(
            values=values, uploads=arrival.uploads, channel="email", mail_id=arrival.row.id
        ),
        key=arrival.key,
        issued=None,
        brand=brand,
        locale=_locale(brand, arrival),
        details=details,
        uploads_dir=uploads_dir(),
        now=arrival.now,
        also=lambda ticket: _complete(session, arrival, ticket),
    )
    if outcome.state != intake.SENT:
        codes = ", ".join(f"{k}: {v}" for k, v in outcome.errors.items())
        raise Stop(FAILED, f"the ticket was refused ({codes or outcome.state})")
    ticket = outcome.ticket
    if not outcome.created:
        raise Stop(DUPLICATE, f"the same mail already made ticket #{ticket.id}")
    refused = [r for rs in outcome.file_errors.values() for r in rs]
    return ticket, None, refused


def _complete(session: Session, arrival: Arrival, ticket: Ticket) -> None:
    """What a new ticket from a mail gets in its own transaction: the ticket it could not
    join, the organization of the address (when the sender is a member), the Cc people, and
    the mail marked done (a crash leaves both or neither)."""
    if arrival.not_joined is not None:
        ticket.related_ticket_id = arrival.not_joined.id
    org_id = arrival.address.customer_org_id if arrival.address is not None else None
    if (
        org_id is not None
        and ticket.customer_org_id != org_id
        and _member(session, arrival, org_id)
    ):
        ticket.customer_org_id = org_id
    _add_ccs(session, arrival, ticket)
    _mark_done(arrival, ticket, None)


def _mark_done(arrival: Arrival, ticket: Ticket, message) -> None:
    row = arrival.row
    row.status, row.reason, row.processed_at, row.claimed_until = DONE, None, arrival.now, None
    row.ticket_id = ticket.id
    if message is not None:
        row.ticket_message_id = message.id
    _note_facts(row, arrival)


def _add_ccs(session: Session, arrival: Arrival, ticket: Ticket) -> None:
    """The mail's Cc people become the ticket's CCs (they hear of public replies); not our
    own addresses, not the sender, at most as many as a requester may share with."""
    seen = {ticket.requester_email.lower()}
    for person in arrival.mail.cc:
        email = person.email
        ours = arrival.our_addresses(session)
        if not email or email in seen or tokens.base_address(email) in ours:
            continue
        if len(seen) > MAX_SHARES or not valid_email(email):
            break
        seen.add(email)
        account_id = session.scalar(select(User.id).where(func.lower(User.email) == email))
        session.add(TicketShare(ticket_id=ticket.id, email=email, user_id=account_id))


def _reply(session: Session, arrival: Arrival):
    mail = arrival.mail
    refused = files.stage_uploads(
        session,
        uploads_dir(),
        [("attachments", None, u.filename, u.stream) for u in arrival.uploads],
        brand_id=arrival.brand.id,
        submission_key=arrival.key,
        now=arrival.now,
    )
    actor = replies.Requester(
        account=arrival.account,
        email=mail.sender.email,
        name=mail.sender.name or mail.sender.email,
        mail=replies.MailOrigin(arrival.row.id, arrival.key, arrival.joined_by),
    )
    try:
        done = replies.reply(
            session,
            actor,
            arrival.ticket,
            _text(arrival),
            public=True,
            files_key=arrival.key,
            reopen_days=current_app.config["REOPEN_DAYS"],
            now=arrival.now,
        )
        session.flush()
    except IntegrityError as exc:  # the same mail, processed in parallel, was first
        raise Stop(DUPLICATE, "this mail was already added to its ticket") from exc
    return done.ticket, done.message, refused


def _form_for(session: Session, arrival: Arrival) -> InquiryForm | None:
    """The address's form, else the brand's first listed form open to everyone."""
    if arrival.address is not None and arrival.address.form_id is not None:
        form = session.get(InquiryForm, arrival.address.form_id)
        if form is not None and form.brand_id == arrival.brand.id:
            return form
    return session.scalar(
        select(InquiryForm)
        .where(
            InquiryForm.brand_id == arrival.brand.id,
            InquiryForm.audience == "everyone",
            InquiryForm.listed.is_(True),
        )
        .order_by(InquiryForm.position, InquiryForm.id)
        .limit(1)
    )


def _member(session: Session, arrival: Arrival, org_id: int) -> bool:
    """The sender belongs to the organization: by account, else by their address's domain."""
    if arrival.account is not None:
        return arrival.account.customer_org_id == org_id
    org = session.get(CustomerOrganization, org_id)
    domain = arrival.mail.sender.email.rpartition("@")[2]
    return org is not None and domain in [d.lower() for d in (org.domains or [])]


def _locale(brand: Brand, arrival: Arrival) -> str:
    """The account's language, else Korean for Hangul text when the brand speaks it, else the
    brand's default."""
    locales = brand.locales or [brand.default_locale]
    if arrival.account is not None and arrival.account.locale in locales:
        return arrival.account.locale
    sample = f"{arrival.mail.subject} {arrival.mail.text[:500]}"
    if "ko" in locales and any("\uac00" <= ch <= "\ud7a3" for ch in sample):
        return "ko"
    return brand.default_locale


def _subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if len(subject) > intake.MAX_SUBJECT:
        subject = subject[: intake.MAX_SUBJECT - 1] + "…"
    return subject or NO_SUBJECT


def _tell_about_refused_files(session: Session, arrival: Arrival, ticket: Ticket, refused):
    """Files the checks refused are named on the ticket (a note for agents) and to the sender
    (a mail, unless they are our own or an automatic sender: classify ran before)."""
    names = [f"{r.filename or 'file'} ({r.code})" for r in refused]
    replies.system_note(
        session,
        ticket,
        "Files in the mail not kept: " + ", ".join(names),
        arrival.now,
    )
    mail_about_request(
        session,
        "mail_files_refused",
        ticket,
        arrival.mail.sender.email,
        brand=arrival.brand,
        refused=refused,
        auto_submitted=outbox.AUTO_REPLIED,
    )


def _note_bounces(session: Session, bounced: list[tuple[str, str]], now: datetime) -> None:
    for email, reason in bounced[:20]:
        row = session.get(BouncingAddress, email[:254])
        if row is None:
            session.add(BouncingAddress(email=email[:254], reason=reason[:500], bounced_at=now))
        else:
            row.reason, row.bounced_at, row.count = reason[:500], now, row.count + 1
    session.commit()


def _sender_limit() -> tuple[int, int]:
    config = current_app.config
    return int(config["MAIL_SENDER_LIMIT"]), int(config["MAIL_SENDER_LIMIT_SECONDS"])
