"""Agent notifications through the doors agents and customers use: an assignment on the agent
page, a customer's reply on the request page, a mention in a note; the in-app badge and list,
the choices per kind, following a ticket, and the one-a-minute digest mail (SQLite and
PostgreSQL)."""

import re

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import assignment, intake, tickets
from portal.desk.automation import agent_alerts
from portal.desk.automation.models import AgentNotice, AgentNoticePreference
from portal.desk.models import InquiryForm, OutboxMail
from portal.extensions import db
from portal.mail import agent_digests, outbox
from portal.mail.sink import sink_message, sink_messages
from tests.conftest import PASSWORD


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"), name="Acme")


@pytest.fixture
def people(make, brand):
    """Agent A (who acts) and agent B (who is told), both of Acme."""
    a = make.user(role="agent", brands=[brand], name="Anna Lee", password=PASSWORD)
    b = make.user(
        role="agent",
        brands=[brand],
        name="Mina Park",
        email="mina@acme.test",
        password=PASSWORD,
    )
    return a, b


def sign_in(client, user):
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303


def notices_of(ctx, user) -> list[AgentNotice]:
    ctx.expire_all()
    return list(
        ctx.scalars(
            select(AgentNotice).where(AgentNotice.user_id == user.id).order_by(AgentNotice.id)
        )
    )


def digests_to(ctx, user) -> list[OutboxMail]:
    ctx.expire_all()
    return list(
        ctx.scalars(
            select(OutboxMail).where(OutboxMail.recipient == user.email).order_by(OutboxMail.id)
        )
    )


def run_digest_job(app):
    with app.app_context():
        return agent_digests.send_digests(db.session, clock.now())


def assign(client, ticket, assignee):
    return client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": ticket.status, "priority": "normal", "assignee": str(assignee.id)},
    )


def note(client, ticket, body):
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply", data={"body": body, "kind": "internal", "delay": "0"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def test_assignment_tells_the_assignee_once_by_mail_and_never_the_agent_who_assigned(
    app, client, ctx, make, brand, people, sink, sink_server, engine
):
    a, b = people
    ticket = make.ticket(brand, subject="Card declined")
    sign_in(client, a)
    assert assign(client, ticket, b).status_code == 303

    (notice,) = notices_of(ctx, b)
    assert (notice.kind, notice.actor_name, notice.ticket_id) == (
        "assigned_to_me",
        "Anna Lee",
        ticket.id,
    )
    assert notices_of(ctx, a) == []

    assert run_digest_job(app) == 1
    (mail,) = digests_to(ctx, b)
    assert digests_to(ctx, a) == []
    assert mail.subject == "1 update on your tickets"
    assert f"#{ticket.id} Card declined" in mail.text_body
    assert "Assigned to you by Anna Lee" in mail.text_body
    assert f"/agent/tickets/{ticket.id}" in mail.text_body
    assert mail.text_body.count("http://") >= 3  # the ticket, the list, the settings
    # Sent through the outbox, as every mail is.
    assert outbox.send_due(engine, sink_server, clock.now())["sent"] == 1
    (stored,) = [sink_message(sink, m.name) for m in sink_messages(sink)]
    assert stored["To"].addresses[0].addr_spec == "mina@acme.test"
    assert stored["Auto-Submitted"] == "auto-generated"
    # Mailed once: the next run has nothing to send.
    assert run_digest_job(app) == 0


def test_thirty_assignments_in_a_minute_make_one_mail(app, client, ctx, make, brand, people):
    a, b = people
    sign_in(client, a)
    for n in range(30):
        ticket = make.ticket(brand, subject=f"Question {n}")
        assert assign(client, ticket, b).status_code == 303
    assert len(notices_of(ctx, b)) == 30
    assert run_digest_job(app) == 1
    (mail,) = digests_to(ctx, b)
    assert mail.subject == "30 updates on your tickets"
    assert mail.text_body.count("Assigned to you by Anna Lee") == 30


def test_a_customer_reply_on_the_request_page_tells_the_assignee(
    app, client, ctx, make, brand, people
):
    a, b = people
    ticket = make.ticket(brand, assignee_id=b.id, requester_name="Jun Seo")
    with app.app_context():
        link = f"/acme/en/requests/{ticket.id}?token=" + tickets.link_token("test-secret", ticket)
    response = client.post(link, data={"body": "It still fails."})
    assert response.status_code == 303
    (notice,) = notices_of(ctx, b)
    assert (notice.kind, notice.actor_name, notice.text) == (
        "customer_replied",
        "Jun Seo",
        "It still fails.",
    )
    assert notices_of(ctx, a) == []


def test_a_mention_in_a_note_tells_the_agent_named_by_name_or_address(
    app, client, ctx, make, brand, people
):
    a, b = people
    c = make.user(role="agent", brands=[brand], name="Jo Kim", email="jokim@acme.test")
    outsider = make.user(role="agent", brands=[make.brand(slug="other")], name="Mina Park")
    ticket = make.ticket(brand)
    sign_in(client, a)
    note(client, ticket, "@Mina Park can you look? cc @jokim, and @Anna Lee (myself)")
    assert [n.kind for n in notices_of(ctx, b)] == ["mentioned"]
    assert [n.kind for n in notices_of(ctx, c)] == ["mentioned"]
    assert notices_of(ctx, a) == []  # never for one's own action
    assert notices_of(ctx, outsider) == []  # cannot see the brand
    # The help text on the ticket page says how.
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "@Mina Park" in page and "mention a colleague" in page


def test_mentions_match_the_longest_name_and_not_addresses_in_text(ctx, make, brand):
    mina = make.user(role="agent", brands=[brand], name="Mina", email="m1@acme.test")
    park = make.user(role="agent", brands=[brand], name="Mina Park", email="m2@acme.test")
    korean = make.user(role="agent", brands=[brand], name="박미나", email="m3@acme.test")
    assert agent_alerts.mentioned(ctx, brand.id, "Hi @mina park.") == [park.id]
    assert agent_alerts.mentioned(ctx, brand.id, "@MINA, please") == [mina.id]
    assert agent_alerts.mentioned(ctx, brand.id, "write to someone@m1 please") == []
    assert agent_alerts.mentioned(ctx, brand.id, "@박미나님 확인 부탁해요") == [korean.id]
    assert agent_alerts.mentioned(ctx, brand.id, "@minaxyz") == []


def test_followers_are_told_of_notes_and_can_stop(app, client, ctx, make, brand, people):
    a, b = people
    ticket = make.ticket(brand)
    sign_in(client, b)
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Follow this ticket" in page
    assert (
        client.post(f"/agent/tickets/{ticket.id}/follow", data={"follow": "1"}).status_code == 303
    )
    sign_in(client, a)
    note(client, ticket, "Called the bank.")
    assert [n.kind for n in notices_of(ctx, b)] == ["note_on_followed"]
    # A, who wrote a note, follows now: B's note tells A.
    sign_in(client, b)
    note(client, ticket, "Thanks.")
    assert [n.kind for n in notices_of(ctx, a)] == ["note_on_followed"]
    response = client.post(
        f"/agent/tickets/{ticket.id}/follow", data={"follow": "0"}, headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "Follow this ticket" in body
    sign_in(client, a)
    note(client, ticket, "Another one.")
    assert [n.kind for n in notices_of(ctx, b)] == ["note_on_followed"]  # nothing new


def test_choices_off_mean_nothing_and_mail_only_means_no_badge(
    app, client, ctx, make, brand, people
):
    a, b = people
    sign_in(client, b)
    page = client.get("/agent/notifications/settings").get_data(as_text=True)
    assert page.count("checked") == 12  # every kind, by mail and in the app
    # Assignments: by mail only; customer replies: nothing. (Unticked boxes send nothing.)
    data = {f"{kind}_{way}": "y" for kind in agent_alerts.NOTICE_KINDS for way in ("mail", "app")}
    del data["assigned_to_me_app"], data["customer_replied_mail"], data["customer_replied_app"]
    response = client.post("/agent/notifications/settings", data=data)
    assert response.status_code == 303
    ctx.expire_all()
    assert ctx.get(AgentNoticePreference, (b.id, "assigned_to_me")).in_app is False

    replied = make.ticket(brand, assignee_id=b.id)
    with app.app_context():
        link = f"/acme/en/requests/{replied.id}?token=" + tickets.link_token("test-secret", replied)
    client.post(link, data={"body": "Hello?"})
    assert notices_of(ctx, b) == []

    sign_in(client, a)
    assert assign(client, make.ticket(brand), b).status_code == 303
    (notice,) = notices_of(ctx, b)
    assert (notice.in_app, notice.by_mail) == (False, True)
    sign_in(client, b)
    assert "notification-count" in client.get("/agent/notifications").get_data(as_text=True)
    assert re.search(r'id="notification-count"[^>]* hidden', client.get("/agent/").get_data(True))
    assert run_digest_job(app) == 1


def test_badge_list_opening_and_mark_all_read(app, client, ctx, make, brand, people):
    a, b = people
    first = make.ticket(brand, subject="First question")
    second = make.ticket(brand, subject="Second question")
    sign_in(client, a)
    assign(client, first, b)
    assign(client, second, b)
    sign_in(client, b)
    queues = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'id="notification-count"[^>]*>2<', queues)
    count = client.get("/agent/notifications/count", headers={"HX-Request": "true"})
    assert re.search(r">2<", count.get_data(as_text=True))
    listing = client.get("/agent/notifications").get_data(as_text=True)
    assert listing.index("Second question") < listing.index("First question")  # newest first
    assert f'href="/agent/tickets/{first.id}"' in listing

    client.get(f"/agent/tickets/{first.id}")  # opening the ticket marks its notice read
    assert [n.read_at is not None for n in notices_of(ctx, b)] == [True, False]
    assert re.search(r'id="notification-count"[^>]*>1<', client.get("/agent/").get_data(True))

    fragment = client.post("/agent/notifications/read", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert all(n.read_at is not None for n in notices_of(ctx, b))
    assert client.post("/agent/notifications/read").status_code == 303
    # Read before the digest went out: nothing worth mailing.
    assert run_digest_job(app) == 0


def test_the_list_is_paginated_and_each_agent_sees_only_their_own(
    app, client, ctx, make, brand, people
):
    a, b = people
    sign_in(client, a)
    for n in range(agent_alerts.PAGE_SIZE + 2):
        assign(client, make.ticket(brand, subject=f"Paged {n:02d}"), b)
    assert "Paged" not in client.get("/agent/notifications").get_data(as_text=True)
    sign_in(client, b)
    first = client.get("/agent/notifications").get_data(as_text=True)
    assert "Paged 26" in first and "Paged 00" not in first and 'rel="next"' in first
    second = client.get("/agent/notifications?page=2").get_data(as_text=True)
    assert "Paged 00" in second and "Paged 26" not in second
    assert client.get("/agent/notifications?page=x").status_code == 200


def test_a_group_assignment_tells_its_members_who_receive_tickets(
    app, client, ctx, make, brand, people
):
    a, b = people
    away = make.user(role="agent", brands=[brand], name="Away Agent")
    away.receives_tickets = False
    make.session.commit()
    group = assignment.save_group(make.session, None, brand.id, "Billing", [a.id, b.id, away.id])
    make.session.commit()
    ticket = make.ticket(brand)
    sign_in(client, a)
    response = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "normal", "group": str(group.id), "assignee": ""},
    )
    assert response.status_code == 303
    assert [n.kind for n in notices_of(ctx, b)] == ["assigned_to_group"]
    assert notices_of(ctx, a) == [] and notices_of(ctx, away) == []


def test_notify_group_tells_every_member_but_the_actor(ctx, make, brand, people):
    a, b = people
    inactive = make.user(role="agent", brands=[brand], name="Gone")
    group = assignment.save_group(ctx, None, brand.id, "Front", [a.id, b.id, inactive.id])
    inactive.active = False
    ctx.commit()
    ticket = make.ticket(brand)
    told = agent_alerts.notify_group(
        ctx, group.id, ticket, "Unassigned for 2 hours", clock.now(), a
    )
    ctx.commit()
    assert told == 1
    (notice,) = notices_of(ctx, b)
    assert (notice.kind, notice.text) == ("group_alert", "Unassigned for 2 hours")


def test_the_digest_is_in_the_agents_language(app, client, ctx, make, brand, people):
    a, b = people
    b.locale = "ko"
    make.session.commit()
    sign_in(client, a)
    assign(client, make.ticket(brand), b)
    run_digest_job(app)
    (mail,) = digests_to(ctx, b)
    assert "Assigned to you" not in mail.text_body
    assert "Anna Lee" in mail.text_body


def test_a_new_ticket_routed_to_an_agent_tells_them_without_an_actor(ctx, make, brand, people):
    a, b = people
    group = assignment.save_group(ctx, None, brand.id, "Billing", [b.id])
    assignment.set_rule(ctx, brand.id, None, f"group:{group.id}")
    form = InquiryForm(brand_id=brand.id, names={"en": "Billing"}, descriptions={})
    ctx.add(form)
    ctx.commit()
    sub = intake.Submission(
        name="Jun", email="jun@example.com", subject="Refund", description="Please refund."
    )
    ticket, _made = intake.create_ticket(
        ctx,
        form=form,
        locale="en",
        sub=sub,
        answers=[],
        requester_id=None,
        details={},
        submission_key="routed-1",
        now=clock.now(),
    )
    ctx.commit()
    (notice,) = notices_of(ctx, b)
    assert (notice.kind, notice.actor_name, notice.ticket_id) == ("assigned_to_me", None, ticket.id)
    assert notices_of(ctx, a) == []
