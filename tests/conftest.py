"""Fixtures: one app per test session on a temporary instance (SQLite, or DATABASE_URL)."""

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from kb import clock
from kb.db import Base
from portal import create_app
from portal.desk.models import TicketCount
from portal.extensions import db
from tests import factories


def _test_config(tmp_path_factory, **extra) -> dict:
    tmp = tmp_path_factory.mktemp("instance")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/portal.db"
    return {
        "INSTANCE_PATH": str(tmp),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "BRAND_CACHE_SECONDS": 0,
        "ARTICLE_READINGS_SECONDS": 0,  # written at once; test_popular checks the tally too
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "INQUIRY_RATE_LIMIT": "10000 per minute",
        "INQUIRY_EMAIL_RATE_LIMIT": "10000 per minute",
        "INQUIRY_MIN_SECONDS": 0,
        "SIGNUP_RATE_LIMIT": "10000 per minute",
        "RESET_RATE_LIMIT": "10000 per minute",
        **extra,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(_test_config(tmp_path_factory, PORTAL_BASE_DOMAIN="help.test"))
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test starts on empty tables and a running clock."""
    yield
    clock.freeze(None)
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    if "portal.pagecache" in app.extensions:
        app.extensions["portal.pagecache"].clear()
    if "portal.search" in app.extensions:
        app.extensions["portal.search"].clear()
    with app.app_context():
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "roles":  # the built-in ones stay, as the migration made them
                db.session.execute(table.delete().where(table.c.key.is_(None)))
            else:
                db.session.execute(table.delete())
        # Deleting the tickets made the triggers add rows to it.
        db.session.execute(TicketCount.__table__.delete())
        db.session.commit()
        db.session.remove()


@pytest.fixture
def engine(app):
    with app.app_context():
        return db.engine


@pytest.fixture
def ctx(engine):
    """A session of the test's own: no app context stays pushed while requests run."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(ctx):
    """Factories bound to the test's session: make.brand(...), make.article(...)."""
    return factories.Factory(ctx)


@pytest.fixture
def uploads(app):
    """The instance's uploads folder (real files); what a test stored there is removed after it."""
    folder = Path(app.instance_path) / "uploads"
    before = set(folder.rglob("*")) if folder.exists() else set()
    yield folder
    for path in sorted(set(folder.rglob("*")) - before, reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


@pytest.fixture
def frozen_now():
    at = clock.now().replace(microsecond=0)
    clock.freeze(at)
    return at


@pytest.fixture
def count_queries(engine):
    """Use as `with count_queries() as n:` ... `n.count` after the block."""

    class Counter:
        count = 0

    def start():
        counter = Counter()

        thread = threading.get_ident()

        def on_execute(*_args, **_kwargs):
            # Only this thread's: the search index may be built in the background meanwhile.
            if threading.get_ident() == thread:
                counter.count += 1

        class Block:
            def __enter__(self):
                event.listen(engine, "before_cursor_execute", on_execute)
                return counter

            def __exit__(self, *exc):
                event.remove(engine, "before_cursor_execute", on_execute)

        return Block()

    return start


def ago(**kwargs):
    return clock.now() - timedelta(**kwargs)


PASSWORD = "correct horse battery"


@pytest.fixture
def login(client, make):
    """login(role, brands=()) -> the user, signed in on `client`; editors/agents join `brands`."""

    def sign_in(role="editor", brands=(), email=None):
        user = make.user(role=role, brands=brands, email=email, password=PASSWORD)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return user

    return sign_in


@pytest.fixture
def sink(app):
    """The app's MAIL_SINK_DIR, emptied after the test (the app lives for the whole session)."""
    folder = Path(app.config["MAIL_SINK_DIR"])
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def sink_server(sink):
    """`flask mail sink` in the test: an SMTP server storing into the app's MAIL_SINK_DIR; its
    SMTP settings, for portal.mail.outbox.send_due."""
    from aiosmtpd.controller import Controller

    from portal.mail.outbox import SmtpSettings
    from portal.mail.sink import SinkHandler
    from tests.portal.mail.conftest import free_port

    controller = Controller(SinkHandler(sink), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpSettings(host="127.0.0.1", port=controller.port, timeout=5)
    controller.stop()
