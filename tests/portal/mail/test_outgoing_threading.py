"""Mail about a ticket threads in the customer's mail client and comes back to its ticket
(issue 17, "Sending"): it comes from the ticket's address, its Reply-To carries the ticket's
signed tag, its subject the [#id] token, its In-Reply-To and References the ticket's mails so
far; Auto-Submitted says who wrote it; the people a ticket is shared with get its public
replies. Asserted on the message as it is sent (outbox.build_message), and once on what the
real sink received."""

import hashlib
from datetime import timedelta
from email.headerregistry import Address

import pytest
from sqlalchemy import select

from kb import clock
from kb.people import CustomerOrganization
from portal.desk import replies
from portal.desk.models import OutboxMail, TicketShare
from portal.mail import outbox, tokens
from portal.mail.models import DONE, InboundMail, MailAddress
from portal.mail.requesters import mail_about_request
from portal.mail.sink import message_part, sink_message, sink_messages
from portal.mail.threading import MAX_REFERENCES

SECRET_KEY = "test-secret"  # tests/conftest.py's


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme", locales=("en", "ko"))


@pytest.fixture
def agent(make, brand):
    return make.user(role="agent", brands=[brand], name="Jonas Berg")


def address(make, brand, email, name="", org=None) -> MailAddress:
    row = MailAddress(
        address=email,
        brand_id=brand.id,
        name=name,
        customer_org_id=org.id if org is not None else None,
    )
    make.session.add(row)
    make.session.commit()
    return row


def received(make, ticket, message_id, at=None, on=None) -> InboundMail:
    """A mail that came in for `ticket` (on the address `on`), as the inbound pipeline keeps it."""
    raw = f"Message-ID: {message_id}\r\n\r\nHello\r\n".encode()
    row = InboundMail(
        source="smtp",
        envelope_from=ticket.requester_email,
        recipients=[on.address] if on is not None else [],
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        received_at=at or clock.now(),
        message_id=message_id,
        sender=ticket.requester_email,
        subject=ticket.subject,
        status=DONE,
        brand_id=ticket.brand_id,
        address_id=on.id if on is not None else None,
        ticket_id=ticket.id,
    )
    make.session.add(row)
    make.session.commit()
    return row


def queue_about(app, make, ticket, template, to=None, **context) -> OutboxMail:
    with app.app_context():
        mail = mail_about_request(
            make.session, template, ticket, to or ticket.requester_email, **context
        )
    make.session.commit()
    return mail


def reply_by(app, make, agent, ticket, body="Please try the card again.", public=True):
    """The agent's reply through the desk's one operation; the mails it queued, in order."""
    before = set(make.session.scalars(select(OutboxMail.id)))
    with app.app_context():
        replies.reply(make.session, agent, ticket, body, public=public, now=clock.now())
    make.session.commit()
    mails = make.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    return [mail for mail in mails if mail.id not in before]


def later(minutes: int) -> None:
    clock.freeze(clock.now() + timedelta(minutes=minutes))


def reply_to_address(message) -> Address:
    (found,) = message["Reply-To"].addresses
    return found


# --- From and Reply-To ----------------------------------------------------------------------


def test_reply_comes_from_the_brands_first_support_address_with_its_name(app, make, brand, agent):
    other = make.brand(slug="other", name="Other")
    address(make, other, "help@other.test", name="Other help")
    address(make, brand, "help@acme.test", name="Acme Help Desk")
    address(make, brand, "billing@acme.test", name="Acme Billing")
    ticket = make.ticket(brand)
    (mail,) = reply_by(app, make, agent, ticket)
    message = outbox.build_message(mail)
    assert message["From"] == "Acme Help Desk <help@acme.test>"
    assert mail.message_id.endswith("@acme.test>")


def test_a_support_address_without_a_name_shows_the_brands(app, make, brand, agent):
    address(make, brand, "help@acme.test")
    (mail,) = reply_by(app, make, agent, make.ticket(brand))
    assert outbox.build_message(mail)["From"] == "Acme <help@acme.test>"


def test_without_a_support_address_mail_comes_from_mail_from_in_the_brands_name(
    app, make, brand, agent
):
    ticket = make.ticket(brand)
    (mail,) = reply_by(app, make, agent, ticket)
    message = outbox.build_message(mail)
    assert message["From"] == "Acme <no-reply@portal.localhost>"
    tagged = reply_to_address(message)
    assert tokens.base_address(tagged.addr_spec) == "no-reply@portal.localhost"
    assert tokens.ticket_in_address(tagged.addr_spec, SECRET_KEY) == ticket.id


def test_a_ticket_that_came_in_on_an_organizations_address_is_answered_from_it(
    app, make, brand, agent
):
    address(make, brand, "help@acme.test", name="Acme Help Desk")
    globex = CustomerOrganization(name="Globex")
    make.session.add(globex)
    make.session.commit()
    theirs = address(make, brand, "globex@acme.test", name="Acme for Globex", org=globex)
    ticket = make.ticket(brand)
    received(make, ticket, "<first@globex.test>", on=theirs)
    (mail,) = reply_by(app, make, agent, ticket)
    message = outbox.build_message(mail)
    assert message["From"] == "Acme for Globex <globex@acme.test>"
    assert tokens.base_address(reply_to_address(message).addr_spec) == "globex@acme.test"


def test_a_ticket_moved_to_another_brand_is_never_answered_from_the_old_brands_address(
    app, make, brand, agent
):
    old = make.brand(slug="old", name="Old Brand")
    came_in_on = address(make, old, "help@old.test", name="Old Brand Help")
    address(make, brand, "help@acme.test", name="Acme Help Desk")
    ticket = make.ticket(brand)
    received(make, ticket, "<first@example.com>", on=came_in_on)
    (mail,) = reply_by(app, make, agent, ticket)
    assert outbox.build_message(mail)["From"] == "Acme Help Desk <help@acme.test>"


def test_an_address_that_cannot_be_a_header_falls_back_to_mail_from(app, make, brand, agent):
    address(make, brand, "a..b@acme.test", name="Typo")  # no dot-atom: an admin's typo
    (mail,) = reply_by(app, make, agent, make.ticket(brand))
    assert outbox.build_message(mail)["From"] == "Acme <no-reply@portal.localhost>"


def test_the_reply_address_leads_back_to_this_ticket_only(app, make, brand, agent):
    address(make, brand, "help@acme.test", name="Acme Help Desk")
    ticket, other = make.ticket(brand), make.ticket(brand)
    (mail,) = reply_by(app, make, agent, ticket)
    message = outbox.build_message(mail)
    tagged = reply_to_address(message)
    assert tagged.display_name == "Acme Help Desk"
    assert tokens.base_address(tagged.addr_spec) == "help@acme.test"
    assert tokens.ticket_in_address(tagged.addr_spec, SECRET_KEY) == ticket.id
    # The tag is signed: naming the other ticket with this signature leads nowhere.
    forged = tagged.addr_spec.replace(f"+t{ticket.id}-", f"+t{other.id}-")
    assert tokens.ticket_in_address(forged, SECRET_KEY) is None
    assert tokens.ticket_in_address(tagged.addr_spec, "another-secret") is None


@pytest.mark.parametrize("template", ["request_received", "request_shared"])
def test_every_mail_about_a_ticket_carries_its_token_in_the_subject(app, make, brand, template):
    ticket = make.ticket(brand)
    mail = queue_about(app, make, ticket, template, sharer="Mina")
    message = outbox.build_message(mail)
    assert tokens.ticket_in_subject(message["Subject"]) == ticket.id
    assert tokens.ticket_in_address(reply_to_address(message).addr_spec, SECRET_KEY) == ticket.id


def test_the_agents_reply_carries_the_token_in_the_subject(app, make, brand, agent):
    ticket = make.ticket(brand)
    (mail,) = reply_by(app, make, agent, ticket)
    subject = outbox.build_message(mail)["Subject"]
    assert subject == f"New reply to your request #{ticket.id}: Card declined [#{ticket.id}]"


# --- In-Reply-To and References -------------------------------------------------------------


def test_the_first_mail_of_a_web_request_starts_a_thread(app, make, brand):
    mail = queue_about(app, make, make.ticket(brand), "request_received")
    message = outbox.build_message(mail)
    assert message["In-Reply-To"] is None and message["References"] is None


def test_a_reply_answers_the_customers_newest_mail_and_references_the_thread(
    app, make, brand, agent, frozen_now
):
    address(make, brand, "help@acme.test")
    ticket = make.ticket(brand)
    first = received(make, ticket, "<first@mail.example.com>")
    later(1)
    confirmation = queue_about(app, make, ticket, "request_received")
    later(10)
    again = received(make, ticket, "<again@mail.example.com>", at=clock.now())
    later(10)
    (mail,) = reply_by(app, make, agent, ticket)
    message = outbox.build_message(mail)
    assert message["In-Reply-To"] == again.message_id
    assert str(message["References"]).split() == [
        first.message_id,
        confirmation.message_id,
        again.message_id,
    ]
    assert mail.message_id not in (first.message_id, again.message_id, confirmation.message_id)
    later(10)
    (follow_up,) = reply_by(app, make, agent, ticket, body="Did it work?")
    message = outbox.build_message(follow_up)
    assert message["In-Reply-To"] == again.message_id  # still the customer's newest
    assert str(message["References"]).split()[-1] == mail.message_id


def test_without_mail_from_the_customer_a_reply_answers_the_newest_mail_sent(
    app, make, brand, agent, frozen_now
):
    ticket = make.ticket(brand)
    confirmation = queue_about(app, make, ticket, "request_received")
    later(5)
    (first_reply,) = reply_by(app, make, agent, ticket)
    later(5)
    (second_reply,) = reply_by(app, make, agent, ticket, body="Did it work?")
    message = outbox.build_message(second_reply)
    assert message["In-Reply-To"] == first_reply.message_id
    assert str(message["References"]).split() == [
        confirmation.message_id,
        first_reply.message_id,
    ]


def test_references_keep_the_threads_root_and_its_newest_mails(app, make, brand, agent, frozen_now):
    ticket = make.ticket(brand)
    ids = []
    for n in range(7):
        ids.append(received(make, ticket, f"<customer-{n}@example.com>", at=clock.now()).message_id)
        later(1)
        (sent,) = reply_by(app, make, agent, ticket, body=f"Answer {n}")
        ids.append(sent.message_id)
        later(1)
    (mail,) = reply_by(app, make, agent, ticket, body="One more thing.")
    references = str(outbox.build_message(mail)["References"]).split()
    assert len(references) == MAX_REFERENCES
    assert references == [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


@pytest.mark.parametrize(
    "message_id",
    [
        "sha256:" + "0" * 64,  # what the pipeline keeps for a mail without a Message-ID
        "<two words@example.com>",
        "<x@example.com>\r\nBcc: everyone@example.test",
        "<x@example.com> <y@example.com>",
        "<" + "a" * 240 + "@example.com>",  # 254 characters: the column holds it
        "no-brackets@example.com",
        "<메일@example.com>",
        "<a@b@example.com>",
    ],
    ids=["hash", "space", "line-break", "two", "too-long", "bare", "non-ascii", "two-ats"],
)
def test_an_unusable_id_from_a_received_mail_never_reaches_a_header(
    app, make, brand, agent, frozen_now, message_id
):
    ticket = make.ticket(brand)
    good = received(make, ticket, "<good@example.com>")
    later(1)
    received(make, ticket, message_id, at=clock.now())
    later(1)
    (mail,) = reply_by(app, make, agent, ticket)
    message = outbox.build_message(mail)
    assert message["In-Reply-To"] == good.message_id
    assert str(message["References"]).split() == [good.message_id]
    assert message["Bcc"] is None


def test_mail_that_was_given_up_is_left_out_of_the_thread(app, make, brand, agent, frozen_now):
    ticket = make.ticket(brand)
    confirmation = queue_about(app, make, ticket, "request_received")
    later(1)
    (lost,) = reply_by(app, make, agent, ticket)
    lost.failed_at = clock.now()  # the customer's server refused it for good
    make.session.commit()
    later(1)
    (mail,) = reply_by(app, make, agent, ticket, body="Trying again.")
    message = outbox.build_message(mail)
    assert message["In-Reply-To"] == confirmation.message_id
    assert lost.message_id not in str(message["References"])


# --- who wrote it (RFC 3834) ----------------------------------------------------------------


def test_an_agents_reply_is_written_by_a_person_so_carries_no_auto_submitted(
    app, make, brand, agent
):
    (mail,) = reply_by(app, make, agent, make.ticket(brand))
    assert "Auto-Submitted" not in outbox.build_message(mail)


def test_automatic_mail_about_a_ticket_says_so(app, make, brand):
    # (the confirmation of a request is auto-replied: tests/portal/desk/test_intake.py)
    mail = queue_about(app, make, make.ticket(brand), "request_shared", sharer="Mina")
    assert outbox.build_message(mail).get_all("Auto-Submitted") == ["auto-generated"]


def test_an_agents_reply_has_a_plain_text_and_an_html_part(app, make, brand, agent):
    body = "Try again <now> & tell us.\nThanks!"
    (mail,) = reply_by(app, make, agent, make.ticket(brand), body=body)
    message = outbox.build_message(mail)
    assert message.get_content_type() == "multipart/alternative"
    assert body in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Try again &lt;now&gt; &amp; tell us." in html and "<now>" not in html
    assert "Jonas Berg" in html


# --- the people a ticket is shared with ------------------------------------------------------


def test_the_people_a_ticket_is_shared_with_get_its_public_replies_not_its_notes(
    app, make, brand, agent
):
    ticket = make.ticket(brand)
    for email in ("boss@example.com", "BOSS@example.com", "it@example.com"):
        make.session.add(TicketShare(ticket_id=ticket.id, email=email))
    make.session.commit()
    mails = reply_by(app, make, agent, ticket)
    assert [m.recipient for m in mails] == [
        "mina@example.com",
        "boss@example.com",
        "it@example.com",
    ]
    assert reply_by(app, make, agent, ticket, body="Card issuer is slow.", public=False) == []


def test_a_public_reply_reaches_the_requester_and_the_cc_in_the_tickets_thread(
    app, client, engine, make, brand, login, sink, sink_server
):
    support = address(make, brand, "help@acme.test", name="Acme Help Desk")
    ticket = make.ticket(brand)
    first = received(make, ticket, "<CAK7x=first@mail.example.com>", on=support)
    make.session.add(TicketShare(ticket_id=ticket.id, email="boss@example.com"))
    make.session.commit()
    login("agent", brands=[brand])

    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Please try the card again.", "kind": "public", "status": "pending"},
    )
    assert response.status_code == 303
    assert outbox.send_due(engine, sink_server, clock.now())["sent"] == 2

    stored = {m.recipient: sink_message(sink, m.name) for m in sink_messages(sink)}
    assert set(stored) == {"mina@example.com", "boss@example.com"}
    for message in stored.values():
        assert message["From"] == "Acme Help Desk <help@acme.test>"
        tagged = reply_to_address(message)
        assert tokens.ticket_in_address(tagged.addr_spec, SECRET_KEY) == ticket.id
        assert tokens.ticket_in_subject(message["Subject"]) == ticket.id
        assert message["In-Reply-To"] == first.message_id
        assert str(message["References"]).split()[0] == first.message_id
        assert "Auto-Submitted" not in message
        assert "Please try the card again." in message_part(message, "plain")
        assert "Please try the card again." in message_part(message, "html")
    # Each got a mail of their own: Message-IDs differ.
    assert len({m["Message-ID"] for m in stored.values()}) == 2
