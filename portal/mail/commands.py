"""`flask mail send`, `flask mail sink`, `flask mail receive` and `flask mail fetch`."""

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from kb import clock
from portal import config
from portal.desk.replies import send_due as send_due_replies
from portal.extensions import db
from portal.mail.inbound import imap
from portal.mail.models import Mailbox
from portal.mail.sender import send_due_now
from portal.mail.sink import SinkHandler, sink_folder


def register_cli(app: Flask) -> None:
    """`flask mail send`, `flask mail sink` and `flask mail fetch` (called from portal.cli)."""
    group = AppGroup(
        "mail", help="Mail: send the outbox, run a local sink, fetch the connected mailboxes."
    )

    @group.command("send")
    def send() -> None:
        """Send the scheduled replies and the mail that are due now and say how it went."""
        config.require_secret_key(current_app)
        replies = send_due_replies(db.session, clock.now())
        if replies:
            click.echo(f"scheduled replies sent {replies}")
        counts = send_due_now(holder="cli")
        click.echo(f"sent {counts['sent']}, failed {counts['failed']}, waiting {counts['waiting']}")

    @group.command("sink")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, default=None, help="Default: SMTP_PORT (8025).")
    def sink(host: str, port: int | None) -> None:
        """A local SMTP server that keeps each message as an .eml file in MAIL_SINK_DIR."""
        from aiosmtpd.controller import Controller

        folder = sink_folder()
        port = port or int(current_app.config["SMTP_PORT"])
        controller = Controller(SinkHandler(folder), hostname=host, port=port)
        _serve(
            controller,
            f"Mail sink on {host}:{port}, storing messages in {folder}",
            "Mail sink stopped",
        )

    @group.command("receive")
    @click.option("--host", default=None, help="Default: MAIL_RECEIVE_HOST (127.0.0.1).")
    @click.option("--port", type=int, default=None, help="Default: MAIL_RECEIVE_PORT (2525).")
    @click.option(
        "--workers",
        type=int,
        default=None,
        help="Threads turning stored mail into tickets (MAIL_RECEIVE_WORKERS); 0 only stores.",
    )
    def receive(host: str | None, port: int | None, workers: int | None) -> None:
        """The SMTP listener: mail to the support addresses becomes tickets and replies."""
        from portal.mail.inbound.listener import Listener

        config.require_secret_key(current_app)
        host = host or current_app.config["MAIL_RECEIVE_HOST"]
        port = port or int(current_app.config["MAIL_RECEIVE_PORT"])
        listener = Listener(current_app._get_current_object(), host, port, workers)
        _serve(listener, f"Receiving mail on {host}:{port}", "Mail listener stopped")

    @group.command("fetch")
    @click.option(
        "--store-only",
        is_flag=True,
        help="Only store the new messages; the scheduler makes tickets of them later.",
    )
    def fetch(store_only: bool) -> None:
        """Fetch every enabled mailbox now and say what each gave."""
        from portal.mail.inbound import pipeline  # as the scheduler's job does (portal.jobs)

        if not store_only:
            config.require_secret_key(current_app)  # tickets made now may mail signed links
        results = imap.fetch_all(
            db.session,
            clock.now(),
            process=None if store_only else pipeline.process,
            max_bytes=int(current_app.config["MAIL_MAX_BYTES"]),
            timeout=float(current_app.config["MAIL_FETCH_TIMEOUT_SECONDS"]),
            secret_key=current_app.config["SECRET_KEY"],
        )
        if not results:
            click.echo("No enabled mailboxes.")
        for result in results:
            mailbox = db.session.get(Mailbox, result.mailbox_id)
            name = f"{mailbox.username} on {mailbox.host}" if mailbox else "(deleted)"
            click.echo(
                f"mailbox {result.mailbox_id} ({name}): new {result.new}, "
                f"skipped {result.skipped}, failed {result.failed}"
                + (f"; error: {result.error}" if result.error else "")
            )

    app.cli.add_command(group)


def _serve(controller, started: str, stopped: str) -> None:
    """Run an aiosmtpd controller until SIGINT or SIGTERM."""
    controller.start()
    click.echo(started)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    try:
        while not stopping.wait(1):
            pass
    finally:
        controller.stop()
    click.echo(stopped)
