"""Submitting a request and the requester's actions on it, called without HTTP: intake.submit
(one ticket with its message, files and one confirmation mail per submission key; refusals
per field) and customer_requests' share, solve and rate."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import clock
from kb.people import CustomerOrganization
from portal.desk import customer_requests, files, intake
from portal.desk.models import (
    FormField,
    InquiryForm,
    OutboxMail,
    Ticket,
    TicketFile,
    TicketMessage,
    TicketShare,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",))


@pytest.fixture
def form(ctx, brand):
    form = InquiryForm(brand_id=brand.id, names={"en": "Billing"}, descriptions={})
    form.fields = [
        FormField(key="order", type="text", position=1, required=True, labels={"en": "Order"}),
        FormField(key="receipt", type="file", position=2, labels={"en": "Receipt"}),
    ]
    ctx.add(form)
    ctx.commit()
    return form


@pytest.fixture
def in_app(app):
    """Mail is rendered with the app's templates and settings."""
    with app.app_context():
        yield app


def count(ctx, model) -> int:
    return ctx.scalar(select(func.count()).select_from(model))


def inquiry(**changes) -> intake.Inquiry:
    values = {
        "name": ["Mina Park"],
        "email": ["mina@example.com"],
        "subject": ["Charged twice"],
        "description": ["My card was charged twice."],
        "f_order": ["A-1234"],
    }
    uploads = changes.pop("uploads", [])
    values.update({k: [v] for k, v in changes.items()})
    return intake.Inquiry(values=values, uploads=uploads)


def send(ctx, app, form, brand, sent, key="a" * 32, actor=None):
    return intake.submit(
        ctx,
        actor or intake.Requester(),
        form,
        sent,
        key=key,
        issued=None,
        brand=brand,
        locale="en",
        details={"user_agent": "test"},
        uploads_dir=Path(app.instance_path) / "uploads",
        now=clock.now(),
    )


def test_a_valid_submission_makes_one_ticket_with_its_message_and_one_mail(
    ctx, in_app, form, brand
):
    outcome = send(ctx, in_app, form, brand, inquiry())
    assert (outcome.state, outcome.created, outcome.counts_as) == (intake.SENT, True, "accepted")
    ticket = ctx.scalar(select(Ticket))
    assert (ticket.id, ticket.subject, ticket.requester_email) == (
        outcome.ticket.id,
        "Charged twice",
        "mina@example.com",
    )
    assert [(a["key"], a["display"]) for a in ticket.answers] == [
        ("order", "A-1234"),
        ("receipt", ""),
    ]
    assert ticket.details["user_agent"] == "test"
    bodies = ctx.scalars(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id))
    assert list(bodies) == ["My card was charged twice."]
    mails = ctx.scalars(select(OutboxMail)).all()
    assert [(m.recipient, m.ticket_id) for m in mails] == [("mina@example.com", ticket.id)]
    # The confirmation answers the requester automatically (RFC 3834): no auto-reply to it.
    assert mails[0].headers["Auto-Submitted"] == "auto-replied"


def test_the_same_key_twice_gives_the_same_ticket_and_one_mail(ctx, in_app, form, brand):
    first = send(ctx, in_app, form, brand, inquiry())
    again = send(ctx, in_app, form, brand, inquiry(subject="Typed again"))
    assert again.state == intake.SENT and again.ticket.id == first.ticket.id
    assert not again.created and again.counts_as is None
    assert count(ctx, Ticket) == 1 and count(ctx, OutboxMail) == 1


@pytest.mark.parametrize(
    "changes, errors",
    [
        ({"f_order": ""}, {"f_order": "required"}),
        ({"email": "not-an-email"}, {"email": "invalid_email"}),
        ({"email": "x@", "subject": ""}, {"email": "invalid_email", "subject": "required"}),
    ],
)
def test_a_refused_submission_makes_nothing_and_says_why_per_field(
    ctx, in_app, form, brand, changes, errors
):
    outcome = send(ctx, in_app, form, brand, inquiry(**changes))
    assert outcome.state == intake.REFUSED and outcome.ticket is None
    assert outcome.errors == errors
    assert outcome.sub.answers["order"] == changes.get("f_order", "A-1234")  # values kept
    assert count(ctx, Ticket) == 0 and count(ctx, OutboxMail) == 0


def test_a_signed_in_customer_sends_as_their_account_without_name_or_email(
    ctx, in_app, form, brand, make
):
    customer = make.user(role="customer")
    ctx.commit()
    sent = inquiry()
    del sent.values["name"], sent.values["email"]
    outcome = send(ctx, in_app, form, brand, sent, actor=intake.Requester(customer))
    assert outcome.state == intake.SENT
    assert (outcome.ticket.requester_id, outcome.ticket.requester_email) == (
        customer.id,
        customer.email,
    )


def test_files_staged_under_the_key_are_attached_to_the_ticket(ctx, in_app, form, brand):
    key = "b" * 32
    earlier = files.stage_uploads(
        ctx,
        Path(in_app.instance_path) / "uploads",
        [("attachments", None, "first.png", io.BytesIO(PNG))],
        brand_id=brand.id,
        submission_key=key,
        now=clock.now(),
    )
    assert earlier == []
    receipt = intake.Upload("f_receipt", "receipt.png", io.BytesIO(PNG))
    outcome = send(ctx, in_app, form, brand, inquiry(uploads=[receipt]), key=key)
    assert outcome.state == intake.SENT
    rows = ctx.scalars(select(TicketFile).order_by(TicketFile.id)).all()
    assert [(r.filename, r.field_key, r.ticket_id) for r in rows] == [
        ("first.png", None, outcome.ticket.id),
        ("receipt.png", "receipt", outcome.ticket.id),
    ]


def test_a_filled_honeypot_is_dropped_without_a_ticket(ctx, in_app, form, brand):
    sent = inquiry()
    sent.honeypot = "http://spam.example"
    outcome = send(ctx, in_app, form, brand, sent)
    assert (outcome.state, outcome.counts_as) == (intake.DROPPED, "abuse")
    assert count(ctx, Ticket) == 0 and count(ctx, OutboxMail) == 0


def test_without_a_valid_key_nothing_is_made(ctx, in_app, form, brand):
    outcome = send(ctx, in_app, form, brand, inquiry(), key=None)
    assert outcome.state == intake.EXPIRED and count(ctx, Ticket) == 0


# -- the requester's actions --------------------------------------------------------------


@pytest.fixture
def requester(make, ctx):
    org = CustomerOrganization(name="Hanbit")
    ctx.add(org)
    ctx.flush()
    user = make.user(role="customer", name="Mina Park")
    user.customer_org_id = org.id
    ctx.commit()
    return user


@pytest.fixture
def ticket(ctx, in_app, form, brand, requester):
    outcome = send(ctx, in_app, form, brand, inquiry(), actor=intake.Requester(requester))
    ctx.execute(OutboxMail.__table__.delete())
    ctx.commit()
    return outcome.ticket


def test_sharing_with_people_adds_each_once_and_mails_each_new_one(
    ctx, in_app, ticket, requester, brand
):
    actor = customer_requests.Customer.of(ctx, requester)
    text = "ann@example.com, bo@example.com; ann@example.com"
    sharing = customer_requests.share_with_people(ctx, actor, ticket, text, clock.now(), brand)
    assert sharing.error is None
    assert sorted(s.email for s in sharing.added) == ["ann@example.com", "bo@example.com"]
    mails = ctx.scalars(select(OutboxMail.recipient).order_by(OutboxMail.recipient)).all()
    assert mails == ["ann@example.com", "bo@example.com"]
    again = customer_requests.share_with_people(ctx, actor, ticket, "bo@example.com", clock.now())
    assert again.added == [] and count(ctx, OutboxMail) == 2


def test_sharing_with_a_bad_address_shares_with_nobody(ctx, in_app, ticket, requester):
    actor = customer_requests.Customer.of(ctx, requester)
    text = "ann@example.com nope"
    sharing = customer_requests.share_with_people(ctx, actor, ticket, text, clock.now())
    assert sharing.error == "invalid_email"
    assert count(ctx, TicketShare) == 0 and count(ctx, OutboxMail) == 0


def test_sharing_with_the_organization_and_back(ctx, in_app, ticket, requester):
    actor = customer_requests.Customer.of(ctx, requester)
    customer_requests.share_with_organization(ctx, actor, ticket, True, clock.now())
    ctx.expire_all()
    assert ctx.get(Ticket, ticket.id).shared_with_org is True
    customer_requests.share_with_organization(ctx, actor, ticket, False, clock.now())
    ctx.expire_all()
    assert ctx.get(Ticket, ticket.id).shared_with_org is False


def test_unsharing_removes_only_this_requests_share(ctx, in_app, ticket, requester):
    actor = customer_requests.Customer.of(ctx, requester)
    added = customer_requests.share_with_people(ctx, actor, ticket, "ann@example.com", clock.now())
    share_id = added.added[0].id
    assert not customer_requests.unshare(ctx, actor, ticket, share_id + 1, clock.now())
    assert customer_requests.unshare(ctx, actor, ticket, share_id, clock.now())
    assert count(ctx, TicketShare) == 0


def test_only_the_requester_may_share(ctx, in_app, ticket, make):
    other = customer_requests.Customer.of(ctx, make.user(role="customer"))
    with pytest.raises(customer_requests.NotAllowed):
        customer_requests.share_with_people(ctx, other, ticket, "ann@example.com", clock.now())
    assert count(ctx, TicketShare) == 0


def test_solving_marks_the_request_solved_once(ctx, in_app, ticket, requester):
    actor = customer_requests.Customer.of(ctx, requester)
    now = clock.now()
    assert customer_requests.solve(ctx, actor, ticket, now)
    ctx.expire_all()
    solved = ctx.get(Ticket, ticket.id)
    assert (solved.status, solved.solved_at) == ("solved", now)
    assert not customer_requests.solve(ctx, actor, solved, now + timedelta(minutes=1))


def test_rating_keeps_score_and_comment_only_once_solved(ctx, in_app, ticket, requester):
    actor = customer_requests.Customer.of(ctx, requester)
    assert not customer_requests.rate(ctx, actor, ticket, "good", "Fast", clock.now())
    customer_requests.solve(ctx, actor, ticket, clock.now())
    assert not customer_requests.rate(ctx, actor, ticket, "great", "", clock.now())
    assert customer_requests.rate(ctx, actor, ticket, "bad", "  Slow  ", clock.now())
    ctx.expire_all()
    rated = ctx.get(Ticket, ticket.id)
    assert (rated.satisfaction, rated.satisfaction_comment) == ("bad", "Slow")


def test_an_opened_suggestion_counts_as_deflected_until_a_ticket_follows_its_key(
    ctx, in_app, form, brand, make
):
    from portal.desk import tickets
    from portal.desk.models import SuggestionClick

    article = make.article(make.section(make.category(brand)), {"en": "Refunds"})
    other = make.brand(slug="other")
    since = clock.now() - timedelta(minutes=1)
    for key in ("c" * 32, "d" * 32):
        intake.note_suggestion_opened(ctx, other.id, form.id, article.id, key, clock.now())
    assert ctx.scalars(select(SuggestionClick.form_id)).all() == [None, None]  # not its form
    send(ctx, in_app, form, brand, inquiry(), key="c" * 32)
    figure = tickets.deflection(ctx, None, since)
    assert (figure.opened, figure.no_ticket) == (2, 1)
