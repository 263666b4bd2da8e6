"""The mail channel on the agent's ticket page: how each message arrived and what a mail joined
by, the original .eml of a message that came by mail, a ticket opened from a mail that could
not join another, a follow-up's closed ticket, and the addresses that bounce."""

import hashlib
import re

import pytest

from kb import clock
from portal.desk.models import TicketMessage, TicketShare
from portal.mail.models import DONE, BouncingAddress, InboundMail
from tests.security.test_headers import _check_common

RAW = (
    b"From: Mina <mina@example.com>\r\n"
    b"To: support+t1-0123456789abcdef@acme.test\r\n"
    b"Subject: Re: Card declined\r\n"
    b"\r\n"
    b"<html><script>alert(1)</script>Still declined.</html>\r\n"
)


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def agent(login, brand):
    return login("agent", brands=[brand])


@pytest.fixture
def ticket(make, brand):
    return make.ticket(brand)


@pytest.fixture
def message(ctx):
    """message(ticket, body, **columns) -> a message of the ticket; `raw` stores the mail it
    came in (as the pipeline does) and links the message to it."""

    def add(ticket, body="Hello", raw=None, **values):
        columns = {
            "ticket_id": ticket.id,
            "author_name": "Mina",
            "author_email": "mina@example.com",
            "from_requester": True,
            "public": True,
            "body": body,
            "channel": "web",
            "created_at": clock.now(),
        }
        if raw is not None:
            mail = InboundMail(
                source="smtp",
                recipients=["support@acme.test"],
                raw=raw,
                size=len(raw),
                sha256=hashlib.sha256(raw).hexdigest(),
                status=DONE,
                ticket_id=ticket.id,
            )
            ctx.add(mail)
            ctx.flush()
            columns |= {"channel": "email", "inbound_mail_id": mail.id}
        row = TicketMessage(**{**columns, **values})
        ctx.add(row)
        ctx.commit()
        return row

    return add


def text(response) -> str:
    return response.get_data(as_text=True)


def page(client, ticket) -> str:
    response = client.get(f"/agent/tickets/{ticket.id}")
    assert response.status_code == 200
    return text(response)


def message_html(html: str, message) -> str:
    return re.search(rf'<li class="message[^"]*" id="message-{message.id}">.*?</li>', html, re.S)[0]


def eml_url(ticket, message) -> str:
    return f"/agent/tickets/{ticket.id}/mail/{message.id}.eml"


# -- how each message arrived ---------------------------------------------------------------


def test_each_message_says_whether_it_came_by_email_the_portal_or_an_agent(
    client, agent, ticket, message
):
    by_mail = message(ticket, "By mail", raw=RAW)
    on_web = message(ticket, "On the web")
    reply = message(ticket, "An agent's reply", from_requester=False, author_name="Agent")
    html = page(client, ticket)
    assert "Via email" in message_html(html, by_mail)
    assert "Via portal" in message_html(html, on_web)
    assert "Via agent" in message_html(html, reply)


@pytest.mark.parametrize(
    "joined_by, words",
    [
        ("address_token", "joined by reply address"),
        ("in_reply_to", "joined by In-Reply-To"),
        ("references", "joined by References"),
        ("subject_token", "joined by [#{id}] in subject"),
    ],
)
def test_a_mail_that_joined_the_ticket_says_by_what(
    client, agent, ticket, message, joined_by, words
):
    joined = message(ticket, "A reply by mail", raw=RAW, joined_by=joined_by)
    assert words.format(id=ticket.id) in message_html(page(client, ticket), joined)


def test_the_mail_that_opened_the_ticket_says_no_joined_by(client, agent, ticket, message):
    opening = message(ticket, "The first mail", raw=RAW)
    assert "joined by" not in message_html(page(client, ticket), opening)


# -- the original message -------------------------------------------------------------------


def test_a_message_that_came_by_mail_links_its_original_and_others_do_not(
    client, agent, ticket, message
):
    by_mail = message(ticket, "By mail", raw=RAW)
    on_web = message(ticket, "On the web")
    html = page(client, ticket)
    assert f'href="{eml_url(ticket, by_mail)}"' in message_html(html, by_mail)
    assert "Original message (.eml)" in message_html(html, by_mail)
    assert ".eml" not in message_html(html, on_web)


def test_the_original_message_downloads_as_it_came_never_rendered(client, agent, ticket, message):
    by_mail = message(ticket, "By mail", raw=RAW)
    response = client.get(eml_url(ticket, by_mail))
    assert response.status_code == 200
    assert response.get_data() == RAW
    assert response.mimetype == "message/rfc822"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename=ticket-{ticket.id}-message-{by_mail.id}.eml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "no-store" in response.headers["Cache-Control"]
    _check_common(response, "agent .eml")  # and never framed, like every response


def test_the_original_is_404_unless_the_message_came_by_mail_in_this_ticket(
    client, make, brand, agent, ticket, message
):
    other = make.ticket(brand, subject="Another one")
    elsewhere = message(other, "By mail, another ticket", raw=RAW)
    on_web = message(ticket, "On the web")
    assert client.get(eml_url(ticket, elsewhere)).status_code == 404
    assert client.get(eml_url(ticket, on_web)).status_code == 404
    assert client.get(f"/agent/tickets/{ticket.id}/mail/999999.eml").status_code == 404
    assert client.get(eml_url(other, elsewhere)).status_code == 200


def test_an_agent_of_another_brand_gets_404_for_the_original(client, make, login, ticket, message):
    by_mail = message(ticket, "By mail", raw=RAW)
    login("agent", brands=[make.brand(slug="globex", locales=("en",))])
    assert client.get(eml_url(ticket, by_mail)).status_code == 404


@pytest.mark.parametrize("role", ["editor", "customer"])
def test_editors_and_customers_never_get_the_original(client, login, brand, ticket, message, role):
    by_mail = message(ticket, "By mail", raw=RAW)
    login(role, brands=[brand] if role == "editor" else ())
    assert client.get(eml_url(ticket, by_mail)).status_code == 403


# -- related tickets ------------------------------------------------------------------------


def test_a_ticket_opened_from_a_mail_that_could_not_join_another_says_why_with_a_link(
    client, make, brand, agent
):
    earlier = make.ticket(brand, subject="Card declined")
    details = {"mail_not_joined": {"ticket": earlier.id, "reason": "not_participant"}}
    ticket = make.ticket(brand, related_ticket_id=earlier.id, details=details)
    html = page(client, ticket)
    assert f"the sender takes no part in ticket #{earlier.id}." in html
    assert f'<a href="/agent/tickets/{earlier.id}">Open ticket #{earlier.id}</a>' in html
    assert "not_participant" not in html  # not listed among the collected details either


def test_a_ticket_with_no_related_ticket_says_nothing_of_it(client, agent, ticket):
    html = page(client, ticket)
    assert "could not join" not in html and "follow-up" not in html


def test_a_follow_up_links_to_the_closed_ticket_it_follows(client, make, brand, agent):
    closed = make.ticket(brand, status="closed")
    follow_up = make.ticket(brand, follow_up_of_id=closed.id)
    html = page(client, follow_up)
    assert f"A follow-up to ticket #{closed.id}, which was closed." in html
    assert f'<a href="/agent/tickets/{closed.id}">Open ticket #{closed.id}</a>' in html


# -- bouncing addresses ---------------------------------------------------------------------


def test_the_requester_and_ccs_that_bounce_are_marked_with_the_reason(client, ctx, agent, ticket):
    ctx.add_all(
        [
            TicketShare(ticket_id=ticket.id, email="lee@example.com"),
            TicketShare(ticket_id=ticket.id, email="kim@example.com"),
            BouncingAddress(email="mina@example.com", reason="550 5.1.1 User unknown"),
            BouncingAddress(email="kim@example.com", reason='Mailbox full "><script>x</script>'),
        ]
    )
    ctx.commit()
    html = page(client, ticket)
    requester = re.search(r"<dd>mina@example.com(.*?)</dd>", html, re.S)[1]
    assert 'class="badge badge-bouncing" title="550 5.1.1 User unknown">bouncing<' in requester
    shared = re.search(r'<ul class="shared-with">(.*?)</ul>', html, re.S)[1]
    assert "<li>lee@example.com</li>" in shared
    assert "kim@example.com <span" in shared and "&#34;&gt;&lt;script&gt;" in shared
    assert "<script>x" not in html


def test_nobody_is_marked_when_nobody_bounces(client, ctx, agent, ticket):
    ctx.add(BouncingAddress(email="someone.else@example.com", reason="gone"))
    ctx.commit()
    assert "badge-bouncing" not in page(client, ticket)


def test_the_bouncing_addresses_take_one_query_whatever_the_number_of_ccs(
    client, ctx, make, brand, agent, count_queries
):
    def queries_for(n: int) -> int:
        ticket = make.ticket(brand, requester_email=f"r{n}@example.com")
        for i in range(n):
            ctx.add(TicketShare(ticket_id=ticket.id, email=f"cc{i}-{n}@example.com"))
            ctx.add(BouncingAddress(email=f"cc{i}-{n}@example.com", reason="gone"))
        ctx.commit()
        with count_queries() as counted:
            assert page(client, ticket).count("badge-bouncing") == n
        return counted.count

    assert queries_for(1) == queries_for(6)
