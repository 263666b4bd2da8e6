"""Where the search index lives: one per database, even from one instance folder."""

import flask_migrate
import pytest
from sqlalchemy.orm import Session

from portal import create_app
from portal.extensions import db
from portal.search import service
from tests.factories import Factory


def _site(instance, name: str, word: str):
    """An app on its own SQLite database in the shared instance folder, with one article."""
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{instance}/{name}.db",
            "TESTING": True,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        with Session(db.engine, expire_on_commit=False) as session:
            make = Factory(session)
            brand = make.brand(slug="acme", locales=("en",))
            make.article(make.section(make.category(brand)), {"en": f"About {word}"}, body=word)
    with service(app)._rebuilding:  # the commit found no index and built one in the background
        pass
    return app


def _cli(app, *args):
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def two_sites(tmp_path):
    apps = [_site(tmp_path, "first", "quasarium"), _site(tmp_path, "second", "zephyrcard")]
    yield apps
    for app in apps:
        service(app).index.close()
        with app.app_context():
            db.engine.dispose()


def test_two_databases_from_one_instance_folder_keep_their_own_indexes(two_sites):
    """Issue 15 item 9: running the demo against PostgreSQL from the same checkout rewrote
    instance/search and left the SQLite site's index stale."""
    first, second = two_sites
    assert _cli(first, "search", "reindex").exit_code == 0
    assert _cli(second, "search", "reindex").exit_code == 0
    check = _cli(first, "search", "check")
    assert check.exit_code == 0, check.output
    body = first.test_client().get("/acme/en/search?q=quasarium").get_data(as_text=True)
    assert "About quasarium" in body
    other = first.test_client().get("/acme/en/search?q=zephyrcard").get_data(as_text=True)
    assert "About zephyrcard" not in other
    assert service(first).folder != service(second).folder
    assert service(first).folder.parent == service(second).folder.parent


def test_index_folder_names_the_database_and_ignores_its_password(tmp_path):
    """Issue 15 item 9: the folder follows the database (not its password, nor how a SQLite
    path is written)."""
    from portal.search import index_folder

    pg = index_folder(tmp_path, "postgresql://portal:one@127.0.0.1:5432/portal_demo")
    assert pg == index_folder(tmp_path, "postgresql://portal:two@127.0.0.1:5432/portal_demo")
    assert pg != index_folder(tmp_path, "postgresql://portal@127.0.0.1:5432/portal_other")
    assert pg.name.startswith("postgresql-portal_demo-") and "one" not in str(pg)
    lite = index_folder(tmp_path, f"sqlite:///{tmp_path}/portal.db")
    assert lite == index_folder(tmp_path, f"sqlite:///{tmp_path}/./portal.db")
    assert lite.name.startswith("sqlite-portal-") and lite != pg
    assert lite.parent == pg.parent == tmp_path / "search"
