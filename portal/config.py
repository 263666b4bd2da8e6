"""Configuration: defaults, then instance/config.py, then the environment (read only here)."""

import logging
import os
import secrets
import shlex
import sys
from datetime import timedelta
from pathlib import Path

log = logging.getLogger(__name__)

ENV_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "PORTAL_BASE_DOMAIN",
    "PORTAL_ENV",
    "REDIS_URL",
    "TRUSTED_PROXIES",
    "PROXY_FIX_HOPS",
    "PORTAL_PAGE_CACHE",
    "PORTAL_SCHEDULER",
    "PORTAL_BASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "MAIL_FROM",
)


class ConfigError(RuntimeError):
    """The configuration cannot run the portal (for example, no SECRET_KEY in production)."""


def defaults(instance_path: str) -> dict:
    return {
        "PORTAL_ENV": "production",
        "SECRET_KEY": None,
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "portal.db"),
        "PORTAL_BASE_DOMAIN": None,
        # How many reverse proxies in front of Portal append to X-Forwarded-For (and set
        # X-Forwarded-Proto and -Host). Client addresses (the audit log, rate limits, the staff
        # IP allowlist) are read through that many hops only: 0, the default, ignores the
        # headers, as anyone can send them. PROXY_FIX_HOPS is its older name, read when
        # TRUSTED_PROXIES is not set.
        "TRUSTED_PROXIES": None,
        "PROXY_FIX_HOPS": 0,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BRAND_CACHE_SECONDS": 2.0,
        "PORTAL_PAGE_CACHE": "on",  # rendered public pages per process; "off" to disable
        # Article readings ("Popular articles") are written together this often per process.
        "ARTICLE_READINGS_SECONDS": 10,
        "REDIS_URL": None,  # shared rate-limit counters; in-process memory when unset
        "LOGIN_RATE_LIMIT": "10 per minute;60 per hour",
        # Staff second-factor codes: per address and per account waiting for its code.
        "TWO_FACTOR_RATE_LIMIT": "5 per minute;30 per hour",
        "TWO_FACTOR_PENDING_SECONDS": 300,  # from the right password to the code
        # Inquiry forms: per address, per email, and the least time a person takes to fill one.
        "INQUIRY_RATE_LIMIT": "10 per minute;60 per day",
        "INQUIRY_EMAIL_RATE_LIMIT": "5 per 10 minutes;20 per day",
        "INQUIRY_MIN_SECONDS": 3,
        "INQUIRY_KEY_MAX_AGE": 2 * 24 * 3600,
        # Customer accounts: limits per address and per email, link lifetimes.
        "SIGNUP_RATE_LIMIT": "5 per minute;30 per day",
        "RESET_RATE_LIMIT": "5 per minute;20 per day",
        "CONFIRM_LINK_HOURS": 48,
        "RESET_LINK_HOURS": 2,
        # Single sign-on tokens older than this (by their iat) are refused.
        "SSO_MAX_AGE_SECONDS": 180,
        # A customer's reply within this many days after "solved" reopens the request; later
        # it starts a follow-up request linked to it.
        "REOPEN_DAYS": 14,
        "SESSION_PROTECTION": "basic",
        # Sign-ins end on the server after this (portal.web.sessions); "keep me signed in" lasts
        # REMEMBER_COOKIE_DURATION. The remember-me cookie is HttpOnly and SameSite=Lax.
        "LOGIN_SESSION_HOURS": 24,
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREVIEW_LINK_DAYS": 7,
        # Scheduled-publishing side effects (portal.jobs): "on" lets this process bid for
        # the lease. SCHEDULER_ENABLED (True/False) overrides it; None follows PORTAL_SCHEDULER.
        "PORTAL_SCHEDULER": "off",
        "SCHEDULER_ENABLED": None,
        "SCHEDULER_LEASE_SECONDS": 30,
        "SCHEDULER_RENEW_SECONDS": 10,
        "SCHEDULER_INTERVAL_SECONDS": 30,
        "SCHEDULER_MISFIRE_GRACE_SECONDS": 3600,
        "SCHEDULER_LOOKBACK_DAYS": 7,
        # Outgoing mail (portal.mail): the outbox is sent over SMTP by the scheduler leader
        # (or `flask mail send`). Port 8025 is `flask mail sink`, the local catch-all server.
        "PORTAL_BASE_URL": "http://127.0.0.1:5000",  # links in mail; never the request's Host
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 8025,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT_SECONDS": 30,
        "MAIL_FROM": "Portal <no-reply@portal.localhost>",
        "MAIL_SINK_DIR": str(Path(instance_path) / "mail-sink"),
        "MAIL_SEND_INTERVAL_SECONDS": 30,
        # Incoming mail (portal.mail.inbound): `flask mail receive` listens here; messages
        # over MAIL_MAX_BYTES are refused at DATA (552), or left flagged on an IMAP server; a
        # sender over the limit is held, not answered.
        "MAIL_RECEIVE_HOST": "127.0.0.1",
        "MAIL_RECEIVE_PORT": 2525,
        "MAIL_RECEIVE_MAX_RECIPIENTS": 50,
        "MAIL_RECEIVE_WORKERS": 2,
        "MAIL_SENDER_LIMIT": 20,
        "MAIL_SENDER_LIMIT_SECONDS": 600,
        "MAIL_MAX_BYTES": 25 * 1024 * 1024,
        # Existing mailboxes (portal.mail.inbound.imap) are fetched by the leader this often.
        "MAIL_FETCH_INTERVAL_SECONDS": 60,
        "MAIL_FETCH_TIMEOUT_SECONDS": 30,
    }


def load(app, test_config: dict | None = None) -> None:
    """Fill app.config from the three sources, then check it can run."""
    app.config.update(defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    for key in ENV_KEYS:
        if key in os.environ:
            app.config[key] = os.environ[key]
    if test_config:
        app.config.update(test_config)
    app.config["TRUSTED_PROXIES"] = _trusted_proxies(app.config)
    app.config["PAGE_CACHE"] = str(app.config["PORTAL_PAGE_CACHE"]).lower() not in (
        "0",
        "off",
        "false",
        "no",
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_url(app.config["DATABASE_URL"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    _check_secret(app)
    _warn_about_per_process_limits(app)


def _trusted_proxies(config) -> int:
    """TRUSTED_PROXIES as a count (PROXY_FIX_HOPS when it is not set); a clear refusal for
    anything that is not a whole number from 0 up."""
    value = config.get("TRUSTED_PROXIES")
    if value is None or value == "":
        value = config.get("PROXY_FIX_HOPS") or 0
    try:
        hops = int(value)
    except (TypeError, ValueError):
        hops = -1
    if hops < 0:
        raise ConfigError(f"TRUSTED_PROXIES must be a whole number from 0 up, not {value!r}.")
    return hops


def _normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


MISSING_SECRET = (
    "SECRET_KEY is not set. Set it in the environment or in instance/config.py "
    "(for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
    "or set PORTAL_ENV=development for a local throwaway key."
)


def _check_secret(app) -> None:
    """A server never starts without a real key outside development. A one-off command
    (`flask mail sink`, `flask db upgrade`, ...) starts without one: those that sign links
    call require_secret_key() first."""
    key = app.config.get("SECRET_KEY")
    if key:
        return
    if app.config["PORTAL_ENV"] != "development":
        from portal.web.serving import serving

        if serving():
            raise ConfigError(MISSING_SECRET)
        return
    # Development only: a random key kept in instance/ so sessions survive restarts.
    path = Path(app.instance_path) / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    app.config["SECRET_KEY"] = path.read_text().strip()


def require_secret_key(app) -> None:
    """For commands that sign what they send (links in mail): the server's key, or a clear
    refusal instead of links that would not open."""
    if not app.config.get("SECRET_KEY"):
        import click

        raise click.ClickException(
            MISSING_SECRET + " This command signs links in mail with the server's key."
        )


def server_workers(argv: list[str] | None = None, environ=None) -> int:
    """How many processes serve this app: gunicorn's workers (-w/--workers on its command line
    or in GUNICORN_CMD_ARGS, else WEB_CONCURRENCY, as gunicorn reads them); 1 otherwise."""
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if not argv or Path(argv[0]).name != "gunicorn":
        return 1
    workers = environ.get("WEB_CONCURRENCY") or "1"
    args = shlex.split(environ.get("GUNICORN_CMD_ARGS", "")) + list(argv[1:])
    for i, arg in enumerate(args):
        if arg in ("-w", "--workers") and i + 1 < len(args):
            workers = args[i + 1]
        elif arg.startswith("--workers="):
            workers = arg.partition("=")[2]
        elif arg.startswith("-w") and len(arg) > 2:
            workers = arg[2:]
    try:
        return max(int(workers), 1)
    except ValueError:
        return 1


def _warn_about_per_process_limits(app) -> None:
    """In-process rate-limit counters are split between workers and forgotten at restart."""
    if app.config["PORTAL_ENV"] == "development":
        return
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    workers = server_workers()
    if storage.startswith("memory://") and workers > 1:
        log.warning(
            "Rate limits are counted in each process's memory, and %d workers serve this app: "
            "each counts only its own share, and a restart forgets them. Set REDIS_URL to "
            "share the counters between workers.",
            workers,
        )
