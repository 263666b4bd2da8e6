"""Browser-test fixtures: a live Portal serving the demo content, and headless Chromium."""

import threading
from pathlib import Path

import flask_migrate
import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from portal import create_app, demo
from portal.extensions import db

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, not a Playwright download (`playwright install` cannot run here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A broken page should fail in seconds, not after Playwright's default 30.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Every test in this folder drives a browser: mark it so `-m "not browser"` skips it."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The base URL of Portal with the demo brands, served from a thread for the whole session."""
    tmp = tmp_path_factory.mktemp("browser-instance")
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp),
            "SECRET_KEY": "browser-tests",
            "DATABASE_URL": f"sqlite:///{tmp}/portal.db",
            "TESTING": True,
            # Every browser test comes from 127.0.0.1: the per-address limits are for the web.
            "INQUIRY_RATE_LIMIT": "1000 per minute",
            "INQUIRY_EMAIL_RATE_LIMIT": "1000 per minute",
            "SIGNUP_RATE_LIMIT": "1000 per minute",
            "RESET_RATE_LIMIT": "1000 per minute",
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        demo.load(db.session)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request) -> bool:
    """Each browser test runs twice: with JavaScript (htmx) and without (plain HTML)."""
    return request.param


@pytest.fixture
def open_page(browser, javascript):
    """open_page(accept_language=None): a page in a fresh browser context for this test."""
    contexts = []

    def open_(accept_language: str | None = None):
        options = {"java_script_enabled": javascript}
        if accept_language:
            options["locale"] = accept_language.split(",")[0]
            options["extra_http_headers"] = {"Accept-Language": accept_language}
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request, javascript):
    """screenshot(page, step): tests/artifacts/<test>-<js|nojs>-<step>.png, the whole page."""
    ARTIFACTS.mkdir(exist_ok=True)
    mode = "js" if javascript else "nojs"

    def take(page, step: str) -> Path:
        path = ARTIFACTS / f"{request.node.originalname}-{mode}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
