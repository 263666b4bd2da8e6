"""A real SMTP server for the mail tests (aiosmtpd on a free port) and the app's mail sink."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from portal.mail.outbox import SmtpSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """An aiosmtpd handler keeping what it receives: raw bytes, parsed messages, envelopes."""

    def __init__(self):
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    @property
    def messages(self):
        # As a mail client keeps them: local line ends instead of the wire's CRLF.
        return [
            message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
            for raw in self.raw
        ]


class SmtpServer:
    """Started and stopped by the tests (stopped: connections are refused on its port)."""

    def __init__(self, **smtp_parameters):
        self.port = free_port()
        self.handler = Collector()
        self.smtp_parameters = smtp_parameters
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self.smtp_parameters
        )
        self.controller.start()

    def stop(self) -> None:
        controller, self.controller = self.controller, None
        if controller is not None:
            controller.stop()

    def settings(self, **kwargs) -> SmtpSettings:
        return SmtpSettings(host="127.0.0.1", port=self.port, timeout=5, **kwargs)

    @property
    def messages(self):
        return self.handler.messages


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
