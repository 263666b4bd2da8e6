"""Several files refused at once: each one is named, on every door that takes files."""

import io

from sqlalchemy import func, select

from portal.desk.models import Ticket, TicketMessage
from tests.portal.agent.test_ticket import new_ticket
from tests.portal.requests import test_intake as intake
from tests.portal.requests.test_intake import PNG, SVG, answers, form_url, fresh_key, sent_ticket

brand = intake.brand  # the intake tests' brand and form, as fixtures here
form = intake.form


def test_request_form_names_every_refused_file(client, ctx, form):
    """Issue 15 item 38: with several files refused at once, only the last one's error was
    shown; each is named beside its field."""
    data = answers(fresh_key(client, form))
    data["attachments"] = [
        (io.BytesIO(SVG), "first-evil.svg"),
        (io.BytesIO(PNG), "fine.png"),
        (io.BytesIO(SVG), "second-evil.svg"),
    ]
    data["f_screenshot"] = [(io.BytesIO(SVG), "third.svg"), (io.BytesIO(SVG), "fourth.svg")]
    page = client.post(form_url(form), data=data, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    for name in ("first-evil.svg", "second-evil.svg", "third.svg", "fourth.svg"):
        assert f"{name}: This kind of file is not accepted." in html
    assert "fine.png: " not in html
    assert ctx.scalar(select(func.count()).select_from(Ticket)) == 0


def test_customer_reply_names_every_refused_file(client, ctx, form):
    """Issue 15 item 38: a reply through the private link names each refused file."""
    ticket, token = sent_ticket(client, form, ctx)
    url = f"/acme/en/requests/{ticket.id}?token={token}"
    data = {
        "body": "Two files",
        "attachments": [(io.BytesIO(SVG), "one.svg"), (io.BytesIO(SVG), "two.svg")],
    }
    page = client.post(url, data=data, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "one.svg: This kind of file is not accepted." in html
    assert "two.svg: This kind of file is not accepted." in html
    assert 'name="body"' in html and "Two files" in html


def test_agent_reply_names_every_refused_file(client, ctx, make, brand, login):
    """Issue 15 item 38: the agent's reply box names each refused file, not only one."""
    requester = make.user(role="customer", email="mina@example.com", name="Mina")
    ticket = new_ticket(make, brand, requester)
    login("agent", brands=[brand])
    data = {
        "body": "See the files",
        "kind": "public",
        "attachments": [
            (io.BytesIO(SVG), "one.svg"),
            (io.BytesIO(PNG), "ok.png"),
            (io.BytesIO(SVG), "two.svg"),
        ],
    }
    page = client.post(
        f"/agent/tickets/{ticket.id}/reply", data=data, content_type="multipart/form-data"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "one.svg: This kind of file is not accepted." in html
    assert "two.svg: This kind of file is not accepted." in html
    ctx.expire_all()
    assert ctx.scalar(select(func.count()).select_from(TicketMessage)) == 0
