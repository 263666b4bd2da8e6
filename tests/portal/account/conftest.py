"""Helpers for account tests: a brand, the outbox, links taken from mail."""

import re
import secrets
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from kb import clock
from kb.people import User
from portal.desk.models import OutboxMail, Ticket

NEW_PASSWORD = "a much longer secret"


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"), name="Acme Help")


def mails(ctx, to=None) -> list[OutboxMail]:
    ctx.expire_all()
    query = select(OutboxMail).order_by(OutboxMail.id)
    if to is not None:
        query = query.where(OutboxMail.recipient == to)
    return list(ctx.scalars(query))


def link_in(mail: OutboxMail) -> str:
    """The path (and query) of the first link in a mail's text."""
    url = re.search(r"https?://\S+", mail.text_body).group(0)
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def user_by_email(ctx, email) -> User | None:
    ctx.expire_all()
    return ctx.scalar(select(User).where(User.email == email))


def signed_in(client) -> bool:
    with client.session_transaction() as session:
        has_id = "_user_id" in session
    page = client.get("/account/settings")
    return has_id and page.status_code == 200


def sign_up(client, email="mina@example.com", password=NEW_PASSWORD, name="Mina Park", **extra):
    data = {"name": name, "email": email, "password": password, **extra}
    return client.post("/acme/en/signup", data=data)


def anonymous_ticket(make, brand, email, subject="Where is my order?"):
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description=f"About: {subject}",
        status="new",
        requester_id=None,
        requester_name="Visitor",
        requester_email=email,
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    make.session.add(row)
    make.session.commit()
    return row
