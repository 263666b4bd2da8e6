"""Mail in, stage by stage through the whole pipeline: what a message becomes (a ticket, a
reply, nothing) and why, as agents and customers then see it."""

from sqlalchemy import func, select

from kb import clock
from kb.people import CustomerOrganization
from portal.desk import replies
from portal.desk.accounts import claim_requests
from portal.desk.forms import create_form
from portal.desk.models import OutboxMail, Ticket, TicketFile, TicketMessage, TicketShare
from portal.extensions import db
from portal.mail import tokens
from portal.mail.inbound import pipeline
from portal.mail.models import (
    DONE,
    DUPLICATE,
    FAILED,
    HELD,
    IGNORED,
    BouncingAddress,
    InboundMail,
    MailAddress,
)
from tests.portal.mail.inbound_helpers import deliver, message, receiving_brand, tickets


def _messages(ctx, ticket_id):
    ctx.expire_all()
    return list(
        ctx.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.id)
        )
    )


def _outbox(ctx, to=None):
    ctx.expire_all()
    stmt = select(OutboxMail).order_by(OutboxMail.id)
    if to:
        stmt = stmt.where(OutboxMail.recipient == to)
    return list(ctx.scalars(stmt))


def test_a_new_mail_opens_a_ticket_from_its_sender(app, make, ctx):
    desk = receiving_brand(make, ctx)
    row = deliver(
        app,
        message(
            desk.address,
            subject="카드 결제가 두 번 됐어요",
            body="어제 결제가 두 번 빠져나갔습니다.\n\n-- \n박민아\n010-0000-0000",
            cc="Jonas <jonas@example.com>",
        ),
    )
    assert row.status == DONE, row.reason
    [ticket] = tickets(ctx)
    assert ticket.channel == "email"
    assert (ticket.requester_name, ticket.requester_email) == ("Mina Park", "mina@example.com")
    assert ticket.requester_id is None  # no account: found under "my requests" after sign-up
    assert ticket.subject == "카드 결제가 두 번 됐어요"
    assert ticket.locale == "ko"  # Hangul, and the brand speaks Korean
    assert ticket.brand_id == desk.brand.id and ticket.form_id == desk.form.id
    [first] = _messages(ctx, ticket.id)
    assert first.body == "어제 결제가 두 번 빠져나갔습니다."  # the signature is folded away
    assert first.channel == "email" and first.inbound_mail_id == row.id
    assert [s.email for s in ctx.scalars(select(TicketShare))] == ["jonas@example.com"]
    # The sender is told the request was received, from the address they wrote to, in the
    # thread of their mail, marked as an automatic answer (no auto-reply to it, please).
    [confirmation] = _outbox(ctx, "mina@example.com")
    assert f"[#{ticket.id}]" in confirmation.subject
    assert desk.address in confirmation.sender
    assert confirmation.headers["In-Reply-To"] == row.message_id
    assert confirmation.headers["Auto-Submitted"] == "auto-replied"
    assert row.ticket_id == ticket.id and row.ticket_message_id == first.id


def test_a_sender_with_an_account_gets_the_ticket_under_their_account(app, make, ctx):
    desk = receiving_brand(make, ctx)
    customer = make.user("customer", email="mina@example.com", name="Mina Park")
    deliver(app, message(desk.address, sender="MINA@example.com"))
    [ticket] = tickets(ctx)
    assert ticket.requester_id == customer.id


def test_the_same_message_twice_makes_one_ticket(app, make, ctx):
    desk = receiving_brand(make, ctx)
    mail = message(desk.address, message_id="<once@mail.example.com>")
    assert deliver(app, mail).status == DONE
    again = deliver(app, mail)
    assert again.status == DUPLICATE
    assert len(tickets(ctx)) == 1
    assert len(_outbox(ctx)) == 1  # one confirmation


def test_a_reply_to_our_mail_joins_its_ticket(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address, message_id="<first@mail.example.com>"))
    [ticket] = tickets(ctx)
    [ours] = _outbox(ctx)
    answer = message(
        desk.address,
        subject=f"Re: {ours.subject}",
        body="It happened again today.\n\nOn Monday, Hanbit Pay wrote:\n> We received it",
        headers={"In-Reply-To": ours.message_id, "References": ours.message_id},
    )
    row = deliver(app, answer)
    assert row.status == DONE, row.reason
    assert len(tickets(ctx)) == 1
    reply = _messages(ctx, ticket.id)[-1]
    assert reply.body == "It happened again today."  # the quoted history is folded away
    assert (reply.joined_by, reply.channel, reply.from_requester) == ("in_reply_to", "email", True)


def test_a_reply_joins_by_references_by_reply_address_or_by_subject_token(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address, message_id="<root@mail.example.com>"))
    [ticket] = tickets(ctx)
    by_references = message(
        desk.address, headers={"References": "<other@x> <root@mail.example.com>"}
    )
    assert deliver(app, by_references).status == DONE
    tagged = tokens.reply_address(desk.address, app.config["SECRET_KEY"], ticket.id)
    assert deliver(app, message(tagged, subject="no marks")).status == DONE
    subject = message(desk.address, subject=f"Re: Card declined [#{ticket.id}]")
    assert deliver(app, subject).status == DONE
    assert len(tickets(ctx)) == 1
    how = [m.joined_by for m in _messages(ctx, ticket.id)]
    assert how == [None, "references", "address_token", "subject_token"]


def test_a_forged_reply_address_does_not_join(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address))
    [ticket] = tickets(ctx)
    forged = desk.address.replace("@", f"+t{ticket.id}-0123456789abcdef@")
    deliver(app, message(forged, subject="hello"))
    assert len(tickets(ctx)) == 2


def test_a_foreign_sender_quoting_the_token_opens_a_linked_ticket(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address))
    [ticket] = tickets(ctx)
    foreign = message(
        desk.address,
        sender="Mallory <mallory@evil.example>",
        subject=f"Re: Card declined [#{ticket.id}]",
        body="Please send me the card number.",
    )
    row = deliver(app, foreign)
    assert row.status == DONE
    first, second = tickets(ctx)
    assert len(_messages(ctx, first.id)) == 1  # nothing added to Mina's ticket
    assert second.requester_email == "mallory@evil.example"
    assert second.related_ticket_id == first.id
    assert second.details["mail_not_joined"] == {"ticket": first.id, "reason": "not_participant"}


def test_a_cc_of_the_ticket_may_answer_by_mail(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address, cc="jonas@example.com"))
    [ticket] = tickets(ctx)
    answer = message(
        desk.address, sender="Jonas <jonas@example.com>", subject=f"Re: [#{ticket.id}]"
    )
    assert deliver(app, answer).status == DONE
    reply = _messages(ctx, ticket.id)[-1]
    assert (reply.author_email, reply.from_requester) == ("jonas@example.com", False)


def test_a_colleague_in_the_sharing_organization_may_answer(app, make, ctx):
    desk = receiving_brand(make, ctx)
    org = CustomerOrganization(name="Daehan", domains=[], shares_requests=True)
    ctx.add(org)
    ctx.commit()
    mina = make.user("customer", email="mina@example.com")
    colleague = make.user("customer", email="jae@daehan.example")
    mina.customer_org_id = colleague.customer_org_id = org.id
    ctx.commit()
    deliver(app, message(desk.address))
    [ticket] = tickets(ctx)
    assert ticket.customer_org_id == org.id
    answer = message(desk.address, sender="jae@daehan.example", subject=f"[#{ticket.id}]")
    deliver(app, answer)
    assert len(tickets(ctx)) == 1
    assert _messages(ctx, ticket.id)[-1].author_id == colleague.id


def test_mail_to_a_closed_ticket_opens_a_follow_up(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address))
    [ticket] = tickets(ctx)
    ticket.status = "closed"
    ctx.commit()
    deliver(app, message(desk.address, subject=f"Re: Card declined [#{ticket.id}]", body="Again"))
    closed, follow_up = tickets(ctx)
    assert follow_up.follow_up_of_id == closed.id and follow_up.channel == "email"
    assert follow_up.requester_email == "mina@example.com"
    assert [m.body for m in _messages(ctx, follow_up.id)] == ["Again"]


def test_a_solved_ticket_opens_again_on_a_reply(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address))
    [ticket] = tickets(ctx)
    ticket.status, ticket.solved_at = "solved", clock.now()
    ctx.commit()
    deliver(app, message(desk.address, subject=f"[#{ticket.id}]", body="Not fixed"))
    [ticket] = tickets(ctx)
    assert ticket.status == "open"


def test_auto_replies_lists_and_bounces_open_nothing_and_send_nothing(app, make, ctx):
    desk = receiving_brand(make, ctx)
    automatic = [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"List-Id": "<announce.lists.example.com>"},
    ]
    for headers in automatic:
        row = deliver(app, message(desk.address, subject="Out of office", headers=headers))
        assert row.status == IGNORED, headers
        assert row.reason
    assert tickets(ctx) == [] and _outbox(ctx) == []


def _bounce(to: str, failed: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--b1--\r\n"
    ).encode()


def test_a_bounce_marks_the_address_and_opens_nothing(app, make, ctx):
    desk = receiving_brand(make, ctx)
    row = deliver(app, _bounce(desk.address, "gone@example.com"), recipients=[desk.address])
    assert row.status == IGNORED
    assert tickets(ctx) == [] and _outbox(ctx) == []
    ctx.expire_all()
    bouncing = ctx.get(BouncingAddress, "gone@example.com")
    assert bouncing is not None and "5.1.1" in bouncing.reason


def test_mail_from_our_own_addresses_is_ignored(app, make, ctx):
    desk = receiving_brand(make, ctx)
    row = deliver(app, message(desk.address, sender=desk.address))
    assert row.status == IGNORED and row.reason == "our own mail"
    assert tickets(ctx) == []


def test_a_runaway_sender_is_held_after_the_limit_and_an_admin_may_retry(app, make, ctx):
    desk = receiving_brand(make, ctx)
    limit = app.config["MAIL_SENDER_LIMIT"]
    rows = [deliver(app, message(desk.address, subject=f"Loop {n}")) for n in range(limit + 2)]
    assert [r.status for r in rows].count(DONE) == limit
    held = [r for r in rows if r.status == HELD]
    assert len(held) == 2 and "mina@example.com" in held[0].reason
    assert len(tickets(ctx)) == limit
    with app.app_context():
        again = pipeline.retry(db.session, held[0].id, clock.now())
        assert again.status == DONE
    assert len(tickets(ctx)) == limit + 1


def test_a_message_that_cannot_be_read_is_kept_as_failed(app, make, ctx):
    desk = receiving_brand(make, ctx)
    row = deliver(app, b"this is not a mail at all", recipients=[desk.address])
    assert row.status == FAILED and row.reason
    ctx.expire_all()
    kept = ctx.get(InboundMail, row.id)
    assert kept.raw == b"this is not a mail at all"  # kept, to look at and retry
    with app.app_context():
        assert pipeline.retry(db.session, row.id, clock.now()).status == FAILED


def test_refused_files_are_named_to_agents_and_to_the_sender(app, make, ctx):
    desk = receiving_brand(make, ctx)
    mail = message(desk.address, body="See the files.")
    mail.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf"
    )
    mail.add_attachment(
        b"MZ\x90\x00 a program",
        maintype="application",
        subtype="x-msdownload",
        filename="setup.exe",
    )
    row = deliver(app, mail)
    assert row.status == DONE, row.reason
    [ticket] = tickets(ctx)
    kept = list(ctx.scalars(select(TicketFile.filename).where(TicketFile.ticket_id == ticket.id)))
    assert kept == ["receipt.pdf"]
    note = [m for m in _messages(ctx, ticket.id) if not m.public]
    assert len(note) == 1 and "setup.exe" in note[0].body
    to_sender = [m for m in _outbox(ctx, "mina@example.com") if "setup.exe" in m.text_body]
    assert len(to_sender) == 1
    assert "- setup.exe: a kind of file we do not accept" in to_sender[0].text_body
    assert "<li>setup.exe: a kind of file we do not accept</li>" in to_sender[0].html_body


def test_mail_to_an_organization_address_lands_in_its_private_requests(app, make, ctx):
    desk = receiving_brand(make, ctx)
    org = CustomerOrganization(name="Daehan", domains=["daehan.example"], shares_requests=True)
    ctx.add(org)
    ctx.commit()
    private = create_form(
        ctx,
        desk.brand,
        {"en": "Daehan", "ko": "대한"},
        {},
        audience="organizations",
        organization_ids=[org.id],
    )
    ctx.add(
        MailAddress(
            address="daehan@hanbit.example",
            brand_id=desk.brand.id,
            form_id=private.id,
            customer_org_id=org.id,
        )
    )
    ctx.commit()
    deliver(app, message("daehan@hanbit.example", sender="jae@daehan.example"))
    deliver(app, message("daehan@hanbit.example", sender="someone@elsewhere.example"))
    member, stranger = tickets(ctx)
    assert member.form_id == private.id and member.customer_org_id == org.id
    # Answered from the organization's own address, which replies come back to.
    [to_member] = _outbox(ctx, "jae@daehan.example")
    assert "daehan@hanbit.example" in to_member.sender
    assert f"<daehan+t{member.id}-" in to_member.headers["Reply-To"]
    assert stranger.customer_org_id is None  # not a member: not shown to the organization


def test_an_agent_reply_by_the_desk_reaches_the_mail_sender(app, make, ctx):
    desk = receiving_brand(make, ctx)
    agent = make.user("agent", brands=[desk.brand])
    deliver(app, message(desk.address, cc="jonas@example.com"))
    [ticket] = tickets(ctx)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket.id)
        agent = db.session.merge(agent)
        replies.reply(db.session, agent, ticket, "We refunded it.", public=True, now=clock.now())
        db.session.commit()
    to = {m.recipient for m in _outbox(ctx) if "We refunded it." in m.text_body}
    assert to == {"mina@example.com", "jonas@example.com"}


def test_one_broken_message_does_not_stop_the_next(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, b"\x00\x01garbage", recipients=[desk.address])
    assert deliver(app, message(desk.address)).status == DONE
    ctx.expire_all()
    assert ctx.scalar(select(func.count()).select_from(Ticket)) == 1


def test_agents_are_told_about_a_held_sender_on_their_queues(app, make, ctx, client, login):
    desk = receiving_brand(make, ctx)
    other = make.brand(slug="other")
    limit = app.config["MAIL_SENDER_LIMIT"]
    for n in range(limit + 3):
        deliver(app, message(desk.address, sender="loop@robot.example", subject=f"Loop {n}"))
    login("agent", brands=[desk.brand])
    page = client.get("/agent/").get_data(as_text=True)
    assert "Mail held by the sender limit" in page and "loop@robot.example: 3 mails" in page
    client.post("/account/logout")
    login("agent", brands=[other])  # another brand's agent is not told
    page = client.get("/agent/").get_data(as_text=True)
    assert "Queues" in page and "loop@robot.example" not in page


def test_a_mail_sender_who_signs_up_later_finds_the_request_as_theirs(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, message(desk.address, sender="Mina <Mina@Example.com>", cc="jonas@example.com"))
    mina = make.user("customer", email="mina@example.com")
    jonas = make.user("customer", email="jonas@example.com")
    assert claim_requests(ctx, mina) == 1
    claim_requests(ctx, jonas)
    ctx.commit()
    [ticket] = tickets(ctx)
    assert ticket.requester_id == mina.id
    assert ctx.scalar(select(TicketShare.user_id)) == jonas.id
