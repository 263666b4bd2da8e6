"""The Portal web application: create_app() wires config, extensions, blueprints and errors."""

import logging
from pathlib import Path

from flask import Flask, abort, g, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from kb.locales import UI_LOCALES, language_name
from portal import config
from portal.desk import languages
from portal.desk import models as desk_models  # noqa: F401  (tables on the shared metadata)
from portal.desk.automation import agent_alerts, events, notifications, rules, webhooks
from portal.desk.automation import models as automation_models  # noqa: F401  (tables too)
from portal.extensions import babel, csrf, db, htmx, limiter, login, migrate
from portal.mail import models as mail_models  # noqa: F401  (tables on the shared metadata)
from portal.security import models as security_models  # noqa: F401  (tables on the metadata)
from portal.web import times
from portal.web.ids import MAX_ID
from portal.web.sessions import SessionInterface
from portal.web.tenancy import BrandHosts, strip_host_brand
from portal.web.wsgi_request import PortalRequest

log = logging.getLogger(__name__)


class IdConverter(IntegerConverter):
    """<id:...>: a database id, never above what an INTEGER column holds (no overflow 500s)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


class Portal(Flask):
    def url_for(self, endpoint, *args, **values):
        url = super().url_for(endpoint, *args, **values)
        if request and not values.get("_external"):
            url = strip_host_brand(url, request.environ)
        return url


# What reacts to ticket events (portal.desk.automation.events calls them in its ORDER), and to
# which kinds of event each listens.
for _name, _module in (
    ("languages", languages),
    ("rules", rules),
    ("notifications", notifications),
    ("agent_alerts", agent_alerts),
    ("webhooks", webhooks),
):
    events.register(_name, _module.on_event, _module.LISTENS_TO)


def create_app(test_config: dict | None = None) -> Portal:
    instance = (test_config or {}).get("INSTANCE_PATH")
    app = Portal(
        __name__,
        instance_path=instance or str(Path(__file__).resolve().parent.parent / "instance"),
        instance_relative_config=True,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config.load(app, test_config)
    app.url_map.converters["id"] = IdConverter
    app.session_interface = SessionInterface()

    db.init_app(app)
    _tune_database(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    app.request_class = PortalRequest
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    login.init_app(app)
    _register_login(app)

    from portal import jobs
    from portal.web import pagecache

    pagecache.init_app(app)

    from portal import search

    search.init_app(app)
    jobs.init_app(app)

    limiter.init_app(app)

    from portal.blueprints.account import bp as account_bp
    from portal.blueprints.admin import bp as admin_bp
    from portal.blueprints.agent import bp as agent_bp
    from portal.blueprints.helpcenter import bp as helpcenter_bp
    from portal.blueprints.requests import bp as requests_bp

    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(agent_bp)
    app.register_blueprint(helpcenter_bp)
    app.register_blueprint(requests_bp)
    _skip_limiter_for_reading_pages(app)

    from portal.web import errors, security_headers

    errors.register(app)
    security_headers.init_app(app)

    from portal import cli

    cli.register(app)

    app.before_request(_refuse_nul_bytes)
    app.jinja_env.globals.update(
        language_name=language_name,
        ui_locales=UI_LOCALES,
        has_endpoint=lambda name: name in app.view_functions,
        localized=_localized,
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["when"] = times.when
    app.jinja_env.filters["when_zoned"] = times.when_zoned
    app.jinja_env.filters["day"] = times.day

    app.wsgi_app = BrandHosts(app)
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (portal.web.addresses.client_ip) through this many proxies only.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _skip_limiter_for_reading_pages(app: Flask) -> None:
    """Public reading pages carry no rate limit, yet Flask-Limiter resolves limits for every
    request (a fifth of a cached page's time). Its check is skipped for the help-center
    blueprint only; limited forms (sign-in, later inquiries) live in other blueprints."""
    funcs = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit
    if check not in funcs:
        return

    def check_unless_reading():
        if request.blueprint != "helpcenter":
            return check()
        return None

    funcs[funcs.index(check)] = check_unless_reading


def _localized(texts, locale, fallback):
    from portal.desk.tickets import localized

    return localized(texts, locale, fallback)


def _refuse_nul_bytes():
    """NUL never belongs in a URL or form value, and PostgreSQL text cannot hold it."""
    values = [request.path, *request.args.values()]
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += request.form.values()
    if any("\x00" in v for v in values):
        abort(400)


def _select_locale() -> str:
    """The help center's language on its pages; elsewhere (back office, settings, error
    pages) the signed-in person's own, then (for visitors and customers, not staff, whose
    desk should not change with the help center they check) the one they last read the
    help center in, then the browser's."""
    if getattr(g, "locale", None):
        return g.locale
    signed_in = current_user and current_user.is_authenticated
    if signed_in:
        chosen = current_user.user.locale
        if chosen in UI_LOCALES:
            return chosen
    last_read = request.cookies.get("locale")
    if last_read in UI_LOCALES and not (signed_in and current_user.user.role == "staff"):
        return last_read
    return request.accept_languages.best_match(list(UI_LOCALES)) or "en"


def _select_timezone() -> str:
    return getattr(g, "timezone", None) or "UTC"


def _tune_database(app: Flask) -> None:
    """SQLite: WAL, a busy timeout and foreign keys on every connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLite's lower() knows only A-Z; Å, Ä, Ö and friends must match as on PostgreSQL.
            dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _register_login(app: Flask) -> None:
    from kb import clock
    from portal.desk.accounts import LoginUser, login_session_user, parse_session_id

    login.login_view = "account.login"
    login.session_protection = app.config["SESSION_PROTECTION"]

    @login.user_loader
    def load_user(session_id: str):
        """The id is "<user id>:<session version>:<sign-in key>" (LoginUser.get_id): a sign-in
        ended or expired, an older version, any other format, an inactive account or an
        unconfirmed address signs nobody in."""
        user = login_session_user(db.session, session_id, clock.now())
        return LoginUser(user, parse_session_id(session_id)[2]) if user is not None else None

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    from portal import access  # answers per signed-in member: templates ask it too

    app.jinja_env.globals.update(
        may=access.may,
        may_everywhere=access.may_everywhere,
        may_enter_back_office=access.may_enter_back_office,
    )
