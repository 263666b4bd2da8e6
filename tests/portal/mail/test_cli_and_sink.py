"""`flask mail send` sends what is due and says so; the sink keeps each message as an .eml."""

import smtplib
import stat
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from kb import clock
from portal.mail import outbox
from portal.mail.sink import SINK_NAME, SinkHandler, sink_message, sink_messages
from tests.portal.mail.conftest import free_port


def queue(ctx, subject="Hello"):
    outbox.enqueue(
        ctx,
        sender="Portal <no-reply@portal.test>",
        recipient="minji@example.test",
        subject=subject,
        text_body="Hello",
        now=clock.now(),
    )
    ctx.commit()


def flask_mail_send(app):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["mail", "send"])


def test_mail_send_sends_what_is_due_and_prints_the_counts(app, ctx, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    queue(ctx)
    queue(ctx)
    result = flask_mail_send(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, failed 0, waiting 0"
    assert len(smtp_server.messages) == 2


def test_mail_send_reports_a_failure_and_what_still_waits(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nobody listens there
    queue(ctx)
    result = flask_mail_send(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 0, failed 1, waiting 1"


@pytest.fixture
def sink_server(tmp_path):
    controller = Controller(SinkHandler(tmp_path / "sink"), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, tmp_path / "sink"
    controller.stop()


def send(controller, subject: str, body: str = "안녕하세요") -> None:
    message = EmailMessage()
    message["From"] = "Portal <no-reply@portal.test>"
    message["To"] = "minji@example.test"
    message["Subject"] = subject
    message.set_content(body)
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    with smtplib.SMTP(controller.hostname, controller.port, timeout=5) as client:
        client.send_message(message)


def test_sink_keeps_each_message_as_a_private_eml_file(sink_server):
    controller, folder = sink_server
    send(controller, "요청 #1 접수")
    files = list(folder.iterdir())
    assert len(files) == 1  # no temporary file left behind
    assert SINK_NAME.match(files[0].name)
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    message = sink_message(folder, files[0].name)
    assert message["Subject"] == "요청 #1 접수"
    assert message.get_body(("plain",)).get_content().strip() == "안녕하세요"


def test_sink_lists_the_newest_message_first(sink_server):
    controller, folder = sink_server
    for n in range(3):
        send(controller, f"Mail {n}")
    listed = sink_messages(folder)
    assert [m.subject for m in listed] == ["Mail 2", "Mail 1", "Mail 0"]
    assert listed[0].recipient == "minji@example.test"
    assert listed[0].date is not None


@pytest.mark.parametrize(
    "name", ["../portal.db", "..", "", "x.eml", "/etc/passwd", "20260101T000000000000Z-zz.eml"]
)
def test_sink_reads_only_its_own_file_names(tmp_path, name):
    assert sink_message(tmp_path, name) is None
