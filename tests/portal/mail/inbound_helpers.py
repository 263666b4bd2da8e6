"""Shared by the mail-in tests: a brand that receives mail, messages to send it, and running
a message through the pipeline the way the listener does (store, then process)."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from kb import clock
from kb.models import Brand
from portal.desk.forms import create_form
from portal.desk.models import InquiryForm, Ticket
from portal.extensions import db
from portal.mail.inbound import pipeline, store
from portal.mail.models import InboundMail, MailAddress


@dataclass
class Desk:
    brand: Brand
    form: InquiryForm
    address: str


def receiving_brand(make, ctx, slug="hanbit", address=None) -> Desk:
    """A brand with a form and a support address mail can be sent to."""
    brand = make.brand(slug=slug, locales=("en", "ko"), name="Hanbit Pay")
    form = create_form(ctx, brand, {"en": "Question", "ko": "문의"}, {})
    address = address or f"support@{slug}.example"
    ctx.add(MailAddress(address=address, brand_id=brand.id))
    ctx.commit()
    return Desk(brand, form, address)


def message(
    to: str,
    *,
    sender: str = "Mina Park <mina@example.com>",
    subject: str = "Card declined",
    body: str = "My card is declined at the counter.",
    message_id: str | None = None,
    headers: dict | None = None,
    cc: str | None = None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail


def deliver(app, raw: bytes | EmailMessage, recipients=()) -> InboundMail:
    """Store and process one message as the listener would; the row as it ended."""
    if isinstance(raw, EmailMessage):
        recipients = recipients or [a.strip() for a in str(raw["To"]).split(",")]
        raw = raw.as_bytes()
    with app.app_context():
        row = store.keep(db.session, raw, source="smtp", recipients=recipients, now=clock.now())
        pipeline.process(db.session, row.id, clock.now())
        db.session.expunge_all()
        found = db.session.get(InboundMail, row.id)
        db.session.expunge(found)
        return found


def tickets(ctx) -> list[Ticket]:
    ctx.expire_all()
    return list(ctx.scalars(select(Ticket).order_by(Ticket.id)))
