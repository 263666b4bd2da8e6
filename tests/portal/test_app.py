"""The application factory: configuration sources and error pages."""

import pytest

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db


def test_missing_secret_key_outside_development_is_a_clear_start_up_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})


def test_development_makes_and_keeps_a_local_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": "sqlite://",
        "PORTAL_ENV": "development",
    }
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600


def test_config_order_is_defaults_then_instance_file_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'from-file'\nPORTAL_BASE_DOMAIN = 'file.example'\n"
    )
    monkeypatch.setenv("PORTAL_BASE_DOMAIN", "env.example")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["PORTAL_BASE_DOMAIN"] == "env.example"
    assert app.config["MAX_CONTENT_LENGTH"] > 0  # a default


def test_postgres_urls_use_the_psycopg3_driver(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgres://u@db.example/portal",
        }
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/portal"


def test_unexpected_error_shows_a_calm_page_without_traceback(tmp_path, caplog):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
        }
    )
    with app.app_context():
        db.create_all()

    @app.get("/__boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/__boom", headers={"Accept-Language": "ko"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    assert '<html lang="ko">' in body
    assert "secret internals" in caplog.text  # logged for us, not shown to them


def test_api_style_clients_get_json_errors(client):
    response = client.get("/nope/", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {"error": {"status": 404, "message": ""}}


def test_sessions_survive_a_secret_key_rotation_only_with_fallbacks(tmp_path):
    """The session serializer is built once per key: a new key must not accept old cookies."""
    config = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "old", "DATABASE_URL": "sqlite://"}
    app = create_app(config)

    @app.get("/__set")
    def set_value():
        from flask import session

        session["n"] = 1
        return "ok"

    @app.get("/__get")
    def get_value():
        from flask import session

        return str(session.get("n"))

    client = app.test_client()
    client.get("/__set")
    assert client.get("/__get").get_data(as_text=True) == "1"
    app.secret_key = app.config["SECRET_KEY"] = "new"
    assert client.get("/__get").get_data(as_text=True) == "None"


GUNICORN_4 = ["/srv/portal/.venv/bin/gunicorn", "-w", "4", "-b", "127.0.0.1:8000", "portal:app"]
PER_PROCESS = "Rate limits are counted in each process's memory"


@pytest.mark.parametrize(
    ("argv", "env", "warned"),
    [
        (GUNICORN_4, {}, True),
        (["gunicorn", "--workers=3", "portal:app"], {}, True),
        (["gunicorn", "portal:app"], {"GUNICORN_CMD_ARGS": "-w2"}, True),
        (["gunicorn", "portal:app"], {"WEB_CONCURRENCY": "8"}, True),
        (["gunicorn", "-w", "1", "portal:app"], {}, False),
        (GUNICORN_4, {"REDIS_URL": "redis://127.0.0.1:6379/0"}, False),
        (GUNICORN_4, {"PORTAL_ENV": "development"}, False),
        (["flask", "--app", "portal", "run"], {}, False),
    ],
)
def test_per_process_rate_limits_with_several_workers_warn_at_start(
    tmp_path, monkeypatch, caplog, argv, env, warned
):
    """Issue 15 item 40: without REDIS_URL the rate limits live in each process's memory
    (two workers each count half, a restart forgets): say so at start outside development
    when more than one worker serves."""
    for name in ("REDIS_URL", "PORTAL_ENV", "GUNICORN_CMD_ARGS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", argv)
    create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    assert (PER_PROCESS in caplog.text) is warned
