"""Sending inquiry forms: conditions, checks, files, one ticket per submission, private links."""

import io
import re
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from kb import attachments, clock
from kb.models import Attachment
from portal.desk import files
from portal.desk.models import FormField, InquiryForm, OutboxMail, Ticket, TicketFile, TicketMessage
from portal.extensions import limiter

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"))


@pytest.fixture
def form(make, brand):
    session = make.session
    form = InquiryForm(
        brand_id=brand.id,
        names={"en": "Payment question", "ko": "결제 문의"},
        descriptions={"en": "Anything about paying."},
    )
    form.fields = [
        FormField(
            key="method",
            type="dropdown",
            position=1,
            required=True,
            labels={"en": "Payment method", "ko": "결제 수단"},
            options=[
                {"value": "card", "labels": {"en": "Card", "ko": "카드"}},
                {"value": "transfer", "labels": {"en": "Bank transfer"}},
            ],
        ),
        FormField(
            key="last4",
            type="text",
            position=2,
            required=True,
            labels={"en": "Last four digits"},
            pattern="[0-9]{4}",
            condition_key="method",
            condition_value="card",
        ),
        FormField(key="screenshot", type="file", position=3, labels={"en": "Screenshot"}),
        FormField(key="device", type="hidden", position=4, query_param="device"),
    ]
    session.add(form)
    session.commit()
    return form


def form_url(form, **query):
    query = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/acme/en/requests/new?form={form.id}" + (f"&{query}" if query else "")


def key_from(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def answers(key, **extra):
    data = {
        "key": key,
        "name": "Mina Park",
        "email": "Mina@Example.com",
        "subject": "Charged twice",
        "description": "My card was charged twice for order 1234.",
        "f_method": "card",
        "f_last4": "4242",
        "shown": "method,last4,screenshot",
        "action": "send",
    }
    data.update(extra)
    return data


def fresh_key(client, form, **query) -> str:
    return key_from(client.get(form_url(form, **query)).get_data(as_text=True))


def count(ctx, model) -> int:
    return ctx.scalar(select(func.count()).select_from(model))


def test_forms_page_lists_this_brands_listed_forms_only(client, make, form, brand):
    other = make.brand(slug="other")
    make.session.add(InquiryForm(brand_id=other.id, names={"en": "Other brand form"}))
    make.session.add(InquiryForm(brand_id=brand.id, names={"en": "Unlisted form"}, listed=False))
    make.session.commit()
    html = client.get("/acme/en/requests/new").get_data(as_text=True)
    assert "Payment question" in html
    assert "Other brand form" not in html and "Unlisted form" not in html


def test_another_brands_form_id_is_404(client, make, form):
    make.brand(slug="other")
    assert client.get(f"/other/en/requests/new?form={form.id}").status_code == 404
    assert client.get("/acme/en/requests/new?form=99999").status_code == 404
    assert client.get("/acme/en/requests/new?form=abc").status_code == 404


def test_conditional_field_shows_only_after_its_answer(client, form):
    html = client.get(form_url(form)).get_data(as_text=True)
    assert "Payment method" in html and "Last four digits" not in html
    key = key_from(html)
    page = client.post(form_url(form), data=answers(key, action="refresh", f_last4=""))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Last four digits" in html
    assert 'value="Charged twice"' in html  # what was typed is kept


def test_htmx_refresh_returns_only_the_questions(client, form):
    key = fresh_key(client, form)
    page = client.post(
        form_url(form),
        data=answers(key, action="refresh", f_method="transfer"),
        headers={"HX-Request": "true"},
    )
    html = page.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="questions">')
    assert "Last four digits" not in html and "<html" not in html


REQUIRED = ' <span aria-hidden="true">*</span></label>'


def test_the_form_lays_out_its_fields_stacked_and_marks_every_required_one(client, form):
    html = client.get(form_url(form)).get_data(as_text=True)
    (tag,) = re.findall(r'<form\b[^>]*class="inquiry-form[^"]*"[^>]*>', html)
    assert "stacked" in re.search(r'class="([^"]*)"', tag).group(1).split()
    for label in ("Your name", "Your email", "Subject", "Description", "Payment method"):
        assert f">{label}{REQUIRED}" in html, label
    assert f">Screenshot{REQUIRED}" not in html and ">Screenshot</label>" in html


def test_the_questions_refreshed_with_htmx_keep_their_required_marks(client, form):
    key = fresh_key(client, form)
    page = client.post(
        form_url(form), data=answers(key, action="refresh"), headers={"HX-Request": "true"}
    )
    html = page.get_data(as_text=True)
    assert f">Payment method{REQUIRED}" in html and f">Last four digits{REQUIRED}" in html


def test_sending_creates_a_ticket_with_the_answers_as_shown(client, ctx, form):
    key = fresh_key(client, form, device="iPhone%2015")
    page = client.post(form_url(form, device="iPhone%2015"), data=answers(key))
    assert page.status_code == 303
    ticket = ctx.scalar(select(Ticket))
    assert ticket.subject == "Charged twice"
    assert ticket.requester_email == "mina@example.com"
    assert ticket.channel == "web" and ticket.status == "new" and ticket.locale == "en"
    shown = {a["key"]: (a["label"], a["display"]) for a in ticket.answers}
    assert shown["method"] == ("Payment method", "Card")
    assert shown["last4"] == ("Last four digits", "4242")
    assert ticket.details["hidden"] == {"device": "iPhone 15"}
    assert ctx.scalar(select(TicketMessage.body)) == ticket.description
    link = page.headers["Location"]
    assert link.startswith(f"/acme/en/requests/{ticket.id}?token=")
    html = client.get(link).get_data(as_text=True)
    assert "Charged twice" in html and "Card" in html
    assert "iPhone 15" not in html  # collected details are for agents


def test_confirmation_mail_is_queued_with_the_private_link(client, ctx, form):
    key = fresh_key(client, form)
    link = client.post(form_url(form), data=answers(key)).headers["Location"]
    mail = ctx.scalar(select(OutboxMail))
    assert mail.recipient == "mina@example.com"
    assert link in mail.text_body


def test_changing_the_form_later_leaves_the_ticket_as_sent(client, ctx, form, make):
    key = fresh_key(client, form)
    client.post(form_url(form), data=answers(key))
    field = make.session.scalar(select(FormField).where(FormField.key == "method"))
    field.labels = {"en": "How did you pay?"}
    make.session.delete(make.session.get(FormField, field.id + 1))  # last4
    make.session.commit()
    ticket = ctx.scalar(select(Ticket))
    assert {a["label"] for a in ticket.answers} >= {"Payment method", "Last four digits"}


def test_errors_come_back_beside_the_fields_with_everything_kept(client, ctx, form):
    key = fresh_key(client, form)
    page = client.post(form_url(form), data=answers(key, email="not-an-email", f_last4="12a"))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Enter an email address like name@example.com." in html
    assert "This is not in the expected format." in html
    assert 'value="Charged twice"' in html and "charged twice for order 1234" in html
    assert count(ctx, Ticket) == 0


def test_newly_opened_required_question_is_asked_before_sending(client, ctx, form):
    key = fresh_key(client, form)
    page = client.post(form_url(form), data=answers(key, f_last4="", shown="method,screenshot"))
    assert page.status_code == 422
    assert "Your answers opened more questions" in page.get_data(as_text=True)
    assert count(ctx, Ticket) == 0


def test_sending_twice_with_one_key_makes_one_ticket(client, ctx, form):
    key = fresh_key(client, form)
    first = client.post(form_url(form), data=answers(key))
    second = client.post(form_url(form), data=answers(key))
    assert first.headers["Location"] == second.headers["Location"]
    assert count(ctx, Ticket) == 1
    assert count(ctx, OutboxMail) == 1


def test_fifty_parallel_submissions_are_each_stored_exactly_once(app, ctx, form):
    keys = []
    client = app.test_client()
    for _ in range(50):
        keys.append(fresh_key(client, form))
    statuses, errors = [], []

    def send(key, n):
        try:
            response = app.test_client().post(
                form_url(form), data=answers(key, subject=f"Request {n}")
            )
            statuses.append(response.status_code)
        except Exception as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [
        threading.Thread(target=send, args=(key, n)) for n, key in enumerate(keys) for _ in (1, 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert statuses == [303] * 100
    subjects = ctx.scalars(select(Ticket.subject)).all()
    assert sorted(subjects) == sorted(f"Request {n}" for n in range(50))


def test_a_bad_file_is_refused_alone_and_the_good_one_is_kept(client, ctx, form):
    key = fresh_key(client, form)
    data = answers(key)
    data["f_screenshot"] = (io.BytesIO(PNG), "screen.png")
    data["attachments"] = (io.BytesIO(SVG), "evil.svg")
    page = client.post(form_url(form), data=data, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "evil.svg: This kind of file is not accepted." in html
    assert "screen.png" in html and 'value="Charged twice"' in html
    assert count(ctx, Ticket) == 0
    sent = client.post(form_url(form), data=answers(key), content_type="multipart/form-data")
    assert sent.status_code == 303
    ticket = ctx.scalar(select(Ticket))
    files = ctx.scalars(select(TicketFile).where(TicketFile.ticket_id == ticket.id)).all()
    assert [f.filename for f in files] == ["screen.png"]
    link = sent.headers["Location"]
    html = client.get(link).get_data(as_text=True)
    href = re.search(r'href="([^"]*/files/[^"]+)"', html).group(1).replace("&amp;", "&")
    download = client.get(href)
    body = download.get_data()
    download.close()  # send_file's open file
    assert body == PNG
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_honeypot_submission_is_thanked_and_dropped(client, ctx, form):
    key = fresh_key(client, form)
    page = client.post(form_url(form), data=answers(key, website="http://spam.example"))
    assert page.status_code == 200
    assert count(ctx, Ticket) == 0


def test_too_fast_submission_is_shown_again_with_its_text(app, client, ctx, form):
    key = fresh_key(client, form)
    app.config["INQUIRY_MIN_SECONDS"] = 60
    try:
        page = client.post(form_url(form), data=answers(key))
    finally:
        app.config["INQUIRY_MIN_SECONDS"] = 0
    assert page.status_code == 400
    assert "charged twice for order 1234" in page.get_data(as_text=True)
    assert count(ctx, Ticket) == 0


def test_forged_key_is_refused_with_the_text_kept(client, ctx, form):
    page = client.post(form_url(form), data=answers("forged.key.value"))
    assert page.status_code == 400
    assert "charged twice for order 1234" in page.get_data(as_text=True)
    assert count(ctx, Ticket) == 0


def test_over_the_rate_limit_is_a_429_that_keeps_the_text(app, client, ctx, form):
    app.config["INQUIRY_EMAIL_RATE_LIMIT"] = "1 per minute"
    try:
        client.post(form_url(form), data=answers(fresh_key(client, form)))
        page = client.post(form_url(form), data=answers(fresh_key(client, form)))
    finally:
        app.config["INQUIRY_EMAIL_RATE_LIMIT"] = "10000 per minute"
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "Too many requests" in html and "charged twice for order 1234" in html
    assert count(ctx, Ticket) == 1


def sent_ticket(client, form, ctx, **extra):
    link = client.post(form_url(form), data=answers(fresh_key(client, form), **extra)).headers[
        "Location"
    ]
    ticket_id = int(urlsplit(link).path.rsplit("/", 1)[1])
    token = parse_qs(urlsplit(link).query)["token"][0]
    return ctx.get(Ticket, ticket_id), token


def test_private_link_opens_its_own_ticket_only(client, ctx, form):
    first, first_token = sent_ticket(client, form, ctx, subject="First")
    second, _second_token = sent_ticket(client, form, ctx, subject="Second")
    assert client.get(f"/acme/en/requests/{first.id}?token={first_token}").status_code == 200
    assert client.get(f"/acme/en/requests/{second.id}?token={first_token}").status_code == 404
    # Without a token: sign in first, for any id (nothing said about whether it exists).
    for ticket_id in (first.id, 99999):
        response = client.get(f"/acme/en/requests/{ticket_id}")
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    assert client.get(f"/acme/en/requests/{first.id}?token=bad").status_code == 404
    assert client.get(f"/acme/en/requests/99999?token={first_token}").status_code == 404


def test_private_link_is_404_in_another_brand_and_after_revoking(client, ctx, form, make):
    from portal.desk import tickets

    make.brand(slug="other")
    ticket, token = sent_ticket(client, form, ctx)
    assert client.get(f"/other/en/requests/{ticket.id}?token={token}").status_code == 404
    tickets.revoke_links(ctx, ticket)
    ctx.commit()
    assert client.get(f"/acme/en/requests/{ticket.id}?token={token}").status_code == 404


def test_reply_through_the_private_link_is_added_to_the_conversation(client, ctx, form):
    ticket, token = sent_ticket(client, form, ctx)
    url = f"/acme/en/requests/{ticket.id}?token={token}"
    empty = client.post(url, data={"body": "  "})
    assert empty.status_code == 422
    page = client.post(url, data={"body": "Here is the receipt number: 778."})
    assert page.status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert "Here is the receipt number: 778." in html
    assert client.get(url).headers["Referrer-Policy"] == "no-referrer"


def test_internal_notes_never_show_on_the_private_page(client, ctx, form):
    ticket, token = sent_ticket(client, form, ctx)
    ctx.add(
        TicketMessage(
            ticket_id=ticket.id, author_name="Agent", public=False, body="Internal: refund risk"
        )
    )
    ctx.commit()
    html = client.get(f"/acme/en/requests/{ticket.id}?token={token}").get_data(as_text=True)
    assert "refund risk" not in html


def test_opened_suggestion_without_a_ticket_counts_as_deflected(
    client, ctx, form, brand, make, login
):
    from datetime import timedelta

    from kb import clock
    from portal.desk import tickets

    article = make.article(make.section(make.category(brand)), {"en": "Refunds"})
    deflected_key = fresh_key(client, form)
    sent_key = fresh_key(client, form)
    for key in (deflected_key, sent_key):
        url = f"/acme/en/requests/suggested/{article.id}?key={key}&form={form.id}"
        assert client.get(url).status_code == 303
    client.post(form_url(form), data=answers(sent_key))
    figure = tickets.deflection(ctx, None, clock.now() - timedelta(days=1))
    assert (figure.opened, figure.no_ticket) == (2, 1)
    login("admin")
    html = client.get("/admin/kb/search-insights").get_data(as_text=True)
    assert "In 2 request forms a visitor opened a suggested article; 1 of them (50%)" in html


def test_signed_in_customer_sends_without_typing_name_or_email(client, ctx, form, login):
    customer = login("customer")
    html = client.get(form_url(form)).get_data(as_text=True)
    assert 'name="email"' not in html
    data = answers(key_from(html))
    del data["name"], data["email"]
    assert client.post(form_url(form), data=data).status_code == 303
    ticket = ctx.scalar(select(Ticket))
    assert (ticket.requester_id, ticket.requester_email) == (customer.id, customer.email)


def test_the_same_file_sent_twice_with_one_form_is_kept_once(client, ctx, form):
    key = fresh_key(client, form)
    for _ in range(2):  # a double click that re-sends the file while the first is refused
        data = answers(key, email="not-an-email")
        data["attachments"] = (io.BytesIO(PNG), "receipt.png")
        assert client.post(form_url(form), data=data).status_code == 422
    assert client.post(form_url(form), data=answers(key)).status_code == 303
    assert [f.filename for f in ctx.scalars(select(TicketFile))] == ["receipt.png"]


@pytest.mark.parametrize(
    "audience, who, usable",
    [
        ("signed_in", "anonymous", False),
        ("signed_in", "customer", True),
        ("organizations", "customer", False),
        ("organizations", "member", True),
    ],
)
def test_private_forms_are_hidden_from_others_in_lists_and_by_url(
    client, make, brand, login, audience, who, usable
):
    from kb.people import CustomerOrganization

    company = CustomerOrganization(name="Daehan Logistics")
    make.session.add(company)
    make.session.commit()
    private = InquiryForm(
        brand_id=brand.id,
        names={"en": "Partner desk"},
        audience=audience,
        organization_ids=[company.id],
    )
    make.session.add(private)
    make.session.commit()
    if who != "anonymous":
        user = login("customer")
        if who == "member":
            make.session.get(type(user), user.id).customer_org_id = company.id
            make.session.commit()
    listed = "Partner desk" in client.get("/acme/en/requests/new").get_data(as_text=True)
    opened = client.get(f"/acme/en/requests/new?form={private.id}").status_code
    assert (listed, opened) == ((True, 200) if usable else (False, 404))


# --- files of forms never sent ----------------------------------------------------------------


def test_refreshing_the_questions_with_files_counts_against_the_limit(app, client, ctx, form):
    """Without JavaScript, "Update the questions" keeps the files chosen: it counts like a
    send, so nobody stores files without limit by refreshing forever."""
    app.config["INQUIRY_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = []
        for n in range(3):
            data = answers(fresh_key(client, form), action="refresh")
            data["attachments"] = (io.BytesIO(PNG + bytes([n])), f"shot{n}.png")
            page = client.post(form_url(form), data=data, content_type="multipart/form-data")
            statuses.append(page.status_code)
        plain = client.post(form_url(form), data=answers(fresh_key(client, form), action="refresh"))
    finally:
        app.config["INQUIRY_RATE_LIMIT"] = "10000 per minute"
    assert statuses == [200, 200, 429]
    assert plain.status_code == 200  # a refresh without files stores nothing: not limited
    assert count(ctx, TicketFile) == 2


def test_files_of_forms_never_sent_are_removed_after_a_day_with_their_bytes(
    app, client, ctx, brand, form, make
):
    data = answers(fresh_key(client, form), action="refresh")
    data["attachments"] = [(io.BytesIO(PNG + b"alone"), "alone.png")]
    data["f_screenshot"] = (io.BytesIO(PNG + b"shared"), "shared.png")
    client.post(form_url(form), data=data, content_type="multipart/form-data")
    staged = {f.filename: f.sha256 for f in ctx.scalars(select(TicketFile))}
    # The same bytes as "shared.png" are an article's attachment too.
    article = make.article(make.section(make.category(brand)), {"en": "Guide"})
    ctx.add(
        Attachment(
            brand_id=article.brand_id,
            article_id=article.id,
            filename="guide.png",
            content_type="image/png",
            size=len(PNG) + 6,
            sha256=staged["shared.png"],
        )
    )
    ctx.commit()
    uploads = Path(app.instance_path) / "uploads"
    paths = {name: attachments.path_for(uploads, sha) for name, sha in staged.items()}
    assert all(p.exists() for p in paths.values())

    assert files.remove_abandoned(ctx, clock.now(), uploads) == 0  # not a day old yet
    removed = files.remove_abandoned(ctx, clock.now() + timedelta(days=1, minutes=1), uploads)
    assert removed == 2 and count(ctx, TicketFile) == 0
    assert not paths["alone.png"].exists()
    assert paths["shared.png"].exists()  # the article still uses these bytes


# --- what counts toward the rate limits ----------------------------------------------------


@pytest.mark.parametrize("limit", ["INQUIRY_EMAIL_RATE_LIMIT", "INQUIRY_RATE_LIMIT"])
def test_sends_with_mistakes_do_not_count_toward_the_rate_limit(app, client, ctx, form, limit):
    """Issue 15 item 17: after five validation errors the correct sixth send was refused with
    429 for ten minutes. A person fixing mistakes is not counted; accepted sends are."""
    with app.app_context():
        limiter.reset()
    app.config[limit] = "5 per 10 minutes"
    try:
        key = fresh_key(client, form)
        for _ in range(5):
            page = client.post(form_url(form), data=answers(key, f_last4="12"))
            assert page.status_code == 422
        sent = client.post(form_url(form), data=answers(key))
        assert sent.status_code == 303
        statuses = [
            client.post(form_url(form), data=answers(fresh_key(client, form))).status_code
            for _ in range(5)
        ]
    finally:
        app.config[limit] = "10000 per minute"
    assert statuses == [303, 303, 303, 303, 429]  # five accepted sends in all, then refused
    assert count(ctx, Ticket) == 5


def test_abuse_signals_still_count_toward_the_rate_limit(app, client, ctx, form):
    """Issue 15 item 17: a filled honeypot or a send faster than a person types counts, so
    a robot cannot send forever."""
    with app.app_context():
        limiter.reset()
    app.config["INQUIRY_EMAIL_RATE_LIMIT"] = "3 per 10 minutes"
    try:
        for _ in range(2):
            client.post(form_url(form), data=answers(fresh_key(client, form), website="x"))
        app.config["INQUIRY_MIN_SECONDS"] = 60
        too_quick = client.post(form_url(form), data=answers(fresh_key(client, form)))
        app.config["INQUIRY_MIN_SECONDS"] = 0
        refused = client.post(form_url(form), data=answers(fresh_key(client, form)))
    finally:
        app.config["INQUIRY_EMAIL_RATE_LIMIT"] = "10000 per minute"
        app.config["INQUIRY_MIN_SECONDS"] = 0
    assert too_quick.status_code == 400
    assert refused.status_code == 429
    assert count(ctx, Ticket) == 0
