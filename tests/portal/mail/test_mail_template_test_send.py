"""A brand's mail template, sent as a test: through the outbox and real SMTP into the app's sink,
where /admin/mail shows it to the member who asked, with the template's header and footer."""

from aiosmtpd.controller import Controller

from kb import clock
from portal.mail import outbox
from portal.mail.sink import SinkHandler, message_part, sink_message, sink_messages
from tests.portal.mail.conftest import free_port


def test_test_send_reaches_the_sink_with_the_unsaved_template(
    app, client, engine, make, login, sink
):
    make.brand(slug="hanbit", name="Hanbit", locales=("ko", "en"))
    user = login("admin", email="owner@example.test")
    response = client.post(
        "/admin/brands/hanbit/mail-template?locale=ko",
        data={
            "header": "언제나 곁에",
            "show_logo": "y",
            "footer": "서울시 중구 <b>1</b>",
            "action": "test",
        },
    )
    assert response.status_code == 303
    assert "owner@example.test" in client.get(response.headers["Location"]).get_data(as_text=True)
    controller = Controller(SinkHandler(sink), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        counts = outbox.send_due(
            engine, outbox.SmtpSettings(host="127.0.0.1", port=controller.port), clock.now()
        )
    finally:
        controller.stop()
    assert counts["sent"] == 1
    [stored] = sink_messages(sink)
    message = sink_message(sink, stored.name)
    assert message["To"] == user.email
    text, html = message_part(message, "plain"), message_part(message, "html")
    assert "언제나 곁에" in text and "서울시 중구 <b>1</b>" in text
    assert "서울시 중구 &lt;b&gt;1&lt;/b&gt;" in html
    page = client.get("/admin/mail").get_data(as_text=True)
    assert f'href="/admin/mail/{stored.name}"' in page
