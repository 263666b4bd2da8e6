"""A real IMAP server for the mailbox tests: our own Dovecot, started once per session.

It is not the system's Dovecot: it reads a configuration written into a temporary folder,
listens on 127.0.0.1 on free ports (plain IMAP with STARTTLS, and IMAPS) with a self-signed
certificate made by openssl, and keeps its maildirs, state and log in that folder.
`make test` installs Debian's dovecot-imapd (`make dovecot`); without it the tests fail.
"""

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

from portal.mail.models import Mailbox

DOVECOT = os.environ.get("DOVECOT", "/usr/sbin/dovecot")
USER = "support@imap.test"
PASSWORD = "s3cret-Imap-pw"
# A second user whose server says it lacks MOVE (Dovecot takes settings from the userdb): the
# fetcher falls back to COPY, \Deleted and EXPUNGE, as with older servers.
OLD_SERVER_USER = "old-server@imap.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Dovecot stopped at start ({process.returncode}):\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"Dovecot did not listen on port {port} within {seconds} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def _user_or(name: str, fallback: str = "nobody") -> str:
    """A system user Dovecot's own processes can run as (the package creates dovecot, dovenull)."""
    try:
        pwd.getpwnam(name)
        return name
    except KeyError:
        return fallback


def _mail_owner() -> tuple[int, int]:
    """Dovecot never gives mail access to root: as root (CI), the mail belongs to nobody."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


CONFIG = """\
protocols = imap
listen = 127.0.0.1
instance_name = portal-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal_user}
default_login_user = {login_user}
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
mail_location = maildir:{root}/mail/%n
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
"""


@dataclass
class Dovecot:
    """Where the test server listens, its user, and how to talk to it as a mail client."""

    port: int
    ssl_port: int
    cert: Path
    username: str = USER
    password: str = PASSWORD

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the test server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        try:
            client.login(self.username, self.password)
        except Exception:
            client.shutdown()
            raise
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox the way a mail server would: an IMAP APPEND."""
        with self.client() as client:
            client.append(folder, raw)

    def as_user(self, username: str) -> "Dovecot":
        """The same server, seen by another of its users."""
        return replace(self, username=username)

    def reset(self) -> None:
        """Every folder but INBOX deleted, INBOX emptied (between tests)."""
        with self.client() as client:
            for _flags, _sep, name in client.list_folders():
                if name != "INBOX":
                    client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search("ALL")
            if uids:
                client.delete_messages(uids)
                client.expunge()


@pytest.fixture(scope="session")
def dovecot_server():
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail(
            f"{DOVECOT} is missing: the IMAP tests need Debian's dovecot-imapd "
            "(`make dovecot` installs it; `make test` does so first)."
        )
    # Not under pytest's private (0700) temp folder: Dovecot's auth process runs as its own
    # user and reads the users file from here.
    root = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
    root.chmod(0o711)
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir()
    cert, key = _self_signed(root)
    uid, gid = _mail_owner()
    for name in ("mail", "home"):
        os.chown(root / name, uid, gid)
    users = root / "users"
    users.write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}::::{root}/home::\n"
        f"{OLD_SERVER_USER}:{{PLAIN}}{PASSWORD}::::{root}/home::userdb_imap_capability=IMAP4rev1\n"
    )
    users.chmod(0o644)
    port, ssl_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        CONFIG.format(
            root=root,
            port=port,
            ssl_port=ssl_port,
            cert=cert,
            key=key,
            uid=uid,
            gid=gid,
            internal_user=_user_or("dovecot"),
            login_user=_user_or("dovenull"),
        )
    )
    log = root / "dovecot.log"
    stderr = (root / "dovecot.stderr").open("wb")
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=stderr
    )
    try:
        _wait_for_port(port, process, root / "dovecot.stderr")
        _wait_for_port(ssl_port, process, log)
        yield Dovecot(port=port, ssl_port=ssl_port, cert=cert)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server):
    """The server, with an empty INBOX and no other folder at the start of each test."""
    dovecot_server.reset()
    dovecot_server.as_user(OLD_SERVER_USER).reset()
    return dovecot_server


def message(subject: str, message_id: str | None = None, body: str = "Hello.\n") -> bytes:
    """A small mail as a customer would send it."""
    mail = EmailMessage()
    mail["From"] = "Minji Kim <minji@example.test>"
    mail["To"] = USER
    mail["Subject"] = subject
    if message_id:
        mail["Message-ID"] = message_id
    mail.set_content(body)
    return mail.as_bytes()


@pytest.fixture
def add_mailbox(ctx, make, dovecot):
    """add_mailbox(**columns) -> a Mailbox of a new brand on the test server (plain IMAP on
    127.0.0.1 unless told otherwise), committed."""

    def add(**columns) -> Mailbox:
        values = {
            "brand_id": make.brand().id,
            "host": "127.0.0.1",
            "port": dovecot.port,
            "security": "none",
            "username": dovecot.username,
            "password": dovecot.password,
            "folder": "INBOX",
            **columns,
        }
        mailbox = Mailbox(**values)
        ctx.add(mailbox)
        ctx.commit()
        return mailbox

    return add
