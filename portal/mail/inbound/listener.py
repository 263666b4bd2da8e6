"""The built-in SMTP listener (aiosmtpd): `flask --app portal mail receive`.

RCPT TO an address we do not receive at is refused (550), never accepted and dropped; a message
over MAIL_MAX_BYTES is refused at DATA (552, aiosmtpd's size limit, which stops keeping
the bytes once over it). A message is answered 250 only once its raw bytes are committed
(store.keep); it is then processed by a small pool of worker threads, and anything still
unprocessed after a crash is taken up again when a listener starts and every half minute.
Database work runs in threads, never on the event loop, so one slow message does not hold the
others.
"""

import asyncio
import ctypes
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from flask import Flask
from sqlalchemy.orm import Session

from kb import clock
from portal.extensions import db
from portal.mail.inbound import pipeline, store
from portal.mail.inbound.recipients import known_address

log = logging.getLogger(__name__)

RECOVERY_SECONDS = 30
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
# A stored message is claimed for the worker it is handed to; after a crash, this long until
# the recovery loop (of any listener) takes it again.
HANDOVER_CLAIM_SECONDS = 60


def return_big_buffers_to_the_system() -> bool:
    """glibc's malloc raises its mmap threshold after big blocks are freed, and then keeps
    later big blocks (a 10 MB message, its decoded parts) in the heap for good: the listener
    would grow by hundreds of MB over a few big messages. A fixed 1 MB threshold keeps every
    big block mmapped, so it goes back to the system when freed. False where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 1024 * 1024))
    except (OSError, AttributeError):
        return False


class _Server(SMTP):
    # Real mail has lines far over RFC 5321's 1000 characters (one-line HTML, long base64):
    # taken as they are, within the size limit.
    line_length_limit = 256 * 1024


class ReceiveHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores then hands over for processing."""

    def __init__(self, app: Flask, workers: int):
        self.app = app
        self.max_recipients = int(app.config["MAIL_RECEIVE_MAX_RECIPIENTS"])
        self.io = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mail-store")
        self.workers = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-process")
            if workers > 0
            else None
        )

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        loop = asyncio.get_running_loop()
        try:
            known = await loop.run_in_executor(self.io, self._known, address)
        except Exception:
            log.exception("Looking up a recipient failed")
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return "550 5.1.1 No such address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            mail_id = await loop.run_in_executor(
                self.io, self._store, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("Storing a received message failed")
            return "451 4.3.0 Could not keep the message, try again later"
        if self.workers is not None:
            self.workers.submit(self._process, mail_id)
        return f"250 2.0.0 Received as #{mail_id}"

    def _known(self, address: str) -> bool:
        with self.app.app_context():
            return known_address(db.session, address) is not None

    def _store(self, raw: bytes, mail_from: str, recipients: list[str]) -> int:
        with self.app.app_context(), Session(db.engine, expire_on_commit=False) as session:
            row = store.keep(
                session,
                raw,
                source="smtp",
                envelope_from=mail_from,
                recipients=recipients,
                now=clock.now(),
                claim_seconds=HANDOVER_CLAIM_SECONDS if self.workers is not None else None,
            )
            return row.id

    def _process(self, mail_id: int) -> None:
        try:
            # A session of its own that keeps what it loaded across the stages' commits.
            with self.app.app_context(), Session(db.engine, expire_on_commit=False) as session:
                pipeline.process(session, mail_id, clock.now(), claimed=True)
        except Exception:  # logged; the row stays RECEIVED and recovery takes it again
            log.exception("Processing received mail %s failed", mail_id)

    def recover(self) -> int:
        """Process what is stored but not processed (a crash came between the two)."""
        if self.workers is None:
            return 0
        with self.app.app_context():
            return pipeline.process_due(db.session, clock.now())

    def close(self) -> None:
        self.io.shutdown(wait=True)
        if self.workers is not None:
            self.workers.shutdown(wait=True)


class Listener(Controller):
    """The SMTP server on its own thread, with the recovery loop beside it."""

    def __init__(self, app: Flask, host: str, port: int, workers: int | None = None):
        workers = int(app.config["MAIL_RECEIVE_WORKERS"]) if workers is None else workers
        self.receiver = ReceiveHandler(app, workers)
        super().__init__(
            self.receiver,
            hostname=host,
            port=port,
            data_size_limit=int(app.config["MAIL_MAX_BYTES"]),
            enable_SMTPUTF8=True,
            ident="Portal",
        )
        self._stopping = threading.Event()
        self._recovery = threading.Thread(target=self._recover_forever, daemon=True)

    def factory(self):
        return _Server(self.handler, **self.SMTP_kwargs)

    def start(self) -> None:
        return_big_buffers_to_the_system()
        super().start()
        self._recovery.start()

    def stop(self, no_assert: bool = False) -> None:
        self._stopping.set()
        super().stop(no_assert=no_assert)
        self.receiver.close()

    def _recover_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self.receiver.recover()
            except Exception:
                log.exception("Processing stored mail failed")
            self._stopping.wait(RECOVERY_SECONDS)
