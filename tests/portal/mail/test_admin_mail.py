"""/admin/mail: admins read what the sink received and the outbox; nobody else does."""

from email.message import EmailMessage

import pytest

from kb import clock
from portal.mail import outbox
from portal.mail.sink import SinkHandler


@pytest.fixture
def received(sink):
    """One message in the app's sink, as `flask mail sink` stores it: its file name."""
    message = EmailMessage()
    message["From"] = "한빛페이 <no-reply@portal.localhost>"
    message["To"] = "minji@example.test"
    message["Subject"] = "요청 #7 접수: 결제"
    message["Date"] = "Wed, 25 Nov 2026 12:00:00 +0000"
    message.set_content("Follow it here:\nhttp://127.0.0.1:5000/hanbit/ko/requests/7\n")
    message.add_alternative(
        '<p onclick="x()">Hi <script>alert(1)</script>'
        '<a href="http://127.0.0.1:5000/hanbit/ko/requests/7">open</a></p>',
        subtype="html",
    )
    return SinkHandler(sink).store(message.as_bytes()).name


@pytest.mark.parametrize("path", ["/admin/mail", "/admin/mail/20261125T120000000000Z-0a1b2c3d.eml"])
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["editor", "agent", "customer"])
def test_mail_pages_are_403_for_everyone_but_admins(client, login, received, role):
    login(role)
    assert client.get("/admin/mail").status_code == 403
    assert client.get(f"/admin/mail/{received}").status_code == 403
    assert client.get("/admin/mail", headers={"HX-Request": "true"}).status_code == 403


def test_admin_sees_received_messages_and_the_outbox(client, ctx, login, received):
    outbox.enqueue(
        ctx,
        sender="Portal <no-reply@portal.localhost>",
        recipient="waiting@example.test",
        subject="Still waiting",
        text_body="x",
        now=clock.now(),
    )
    ctx.commit()
    login("admin")
    response = client.get("/admin/mail")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "요청 #7 접수: 결제" in page and "minji@example.test" in page
    assert f'href="/admin/mail/{received}"' in page
    assert "waiting@example.test" in page and "Still waiting" in page
    assert "Waiting: 1 · Sent: 0 · Failed: 0" in page


def test_admin_reads_a_message_with_its_html_sandboxed(client, login, received):
    login("admin")
    response = client.get(f"/admin/mail/{received}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "요청 #7 접수: 결제" in page  # headers, decoded
    assert "<pre" in page and "http://127.0.0.1:5000/hanbit/ko/requests/7" in page
    assert '<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc=' in page
    assert "allow-scripts" not in page and "allow-same-origin" not in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_follows_a_mails_links_from_the_text_and_the_html(client, login, received):
    """Issue 15 item 21 (found by QA): our pages refuse to be framed, so a link clicked in the
    framed HTML failed, and the text part's links were plain text. Both now open a new tab."""
    login("admin")
    page = client.get(f"/admin/mail/{received}").get_data(as_text=True)
    link = "http://127.0.0.1:5000/hanbit/ko/requests/7"
    assert f'<a href="{link}" rel="noopener noreferrer" target="_blank">{link}</a>' in page
    assert 'srcdoc="&lt;base target=&#34;_blank&#34;&gt;&lt;p' in page


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fportal.db",
        "..%2Fconfig.py",
        "portal.db",
        "dev-secret-key",
        "20261125T120000000000Z-0a1b2c3d.eml",  # well formed, but not there
        ".incoming-abc.tmp",
    ],
)
def test_names_that_are_not_sink_files_are_404(client, login, received, name):
    login("admin")
    assert client.get(f"/admin/mail/{name}").status_code == 404


def test_only_admins_see_the_mail_link(client, login):
    login("editor")
    assert 'href="/admin/mail"' not in client.get("/admin/kb/").get_data(as_text=True)


def test_admins_see_the_mail_link(client, login):
    login("admin")
    assert 'href="/admin/mail"' in client.get("/admin/kb/").get_data(as_text=True)
