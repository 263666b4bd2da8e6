"""Mail to the people of a request: each recipient's language and link are decided here, once.

Every mail about a request (received, an agent's reply, now, scheduled or in bulk, a share)
goes through `mail_about_request`. A requester without an account gets the request's private
link (its token): they have no other way in. Account holders, and people the request is
shared with, get the request's own address, which opens once they sign in (a token would give
a colleague the requester's powers). The mail and its link are in the language of the
recipient's account when the brand offers it, else in the ticket's.

Each mail comes from the ticket's address, answers go back to the ticket (Reply-To with its
signed tag, `[#id]` in the subject), and it threads with the mail before it
(portal.mail.threading). Auto-Submitted says who wrote it (RFC 3834): the caller says.
"""

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk import tickets
from portal.desk.models import OutboxMail, Ticket
from portal.mail import outbox
from portal.mail.compose import absolute_url, queue_mail, sender_for
from portal.mail.threading import thread_headers, ticket_address


def recipient_account(session: Session, ticket: Ticket, email: str) -> User | None:
    """The account a mail about this request goes to, if the address has one."""
    if ticket.requester_id is not None and _same(email, ticket.requester_email):
        return session.get(User, ticket.requester_id)
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def recipient_locale(brand: Brand, ticket: Ticket, account: User | None) -> str:
    """The account's language when the brand offers it, else the ticket's."""
    if account is not None and account.locale and account.locale in (brand.locales or []):
        return account.locale
    return ticket.locale


def request_link(brand: Brand, ticket: Ticket, locale: str, *, private: bool) -> str:
    """The request page's absolute address; `private`: with its token (no sign-in needed)."""
    values = {"brand": brand.slug, "locale": locale, "ticket_id": ticket.id}
    if private:
        values["token"] = tickets.link_token(current_app.config["SECRET_KEY"], ticket)
    return absolute_url("requests.show_request", **values)


def mail_about_request(
    session: Session,
    template: str,
    ticket: Ticket,
    to: str,
    brand: Brand | None = None,
    *,
    auto_submitted: str | None = outbox.AUTO_GENERATED,
    **context,
) -> OutboxMail:
    """Queue mail/<template> about `ticket` to `to` (caller's transaction), with `link` and
    the language chosen for this recipient, from the ticket's address and in its thread.
    `auto_submitted` says who wrote it (RFC 3834): None for a person (an agent's reply),
    AUTO_REPLIED for an automatic answer to the customer's message, else AUTO_GENERATED."""
    brand = brand or session.get(Brand, ticket.brand_id)
    account = recipient_account(session, ticket, to)
    locale = recipient_locale(brand, ticket, account)
    private = ticket.requester_id is None and _same(to, ticket.requester_email)
    sender = sender_for(brand, ticket_address(session, ticket))
    secret_key = current_app.config["SECRET_KEY"]
    return queue_mail(
        session,
        template,
        brand=brand,
        locale=locale,
        to=to,
        ticket_id=ticket.id,
        sender=sender,
        headers=thread_headers(session, ticket, sender, secret_key),
        auto_submitted=auto_submitted,
        ticket=ticket,
        link=request_link(brand, ticket, locale, private=private),
        **context,
    )


def _same(email: str | None, other: str | None) -> bool:
    return bool(email and other) and email.strip().lower() == other.strip().lower()
