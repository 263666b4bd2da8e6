"""Every form needs a CSRF token: a POST without one changes nothing."""

import re

import pytest
from sqlalchemy import select

from kb.models import ArticleVote
from portal import create_app
from portal.extensions import db
from tests.conftest import _test_config


@pytest.fixture
def csrf_client(app, tmp_path_factory):
    config = _test_config(tmp_path_factory, WTF_CSRF_ENABLED=True)
    config["DATABASE_URL"] = app.config["DATABASE_URL"]  # same database, CSRF on
    csrf_app = create_app(config)
    yield csrf_app.test_client()
    with csrf_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_vote_without_csrf_token_is_refused(csrf_client, make, ctx):
    brand = make.brand(slug="acme", locales=("en",))
    article = make.article(make.section(make.category(brand)), {"en": "Reset"})
    response = csrf_client.post(f"/acme/en/articles/{article.id}/vote", data={"helpful": "yes"})
    assert response.status_code == 400
    assert "Your session has expired" in response.get_data(as_text=True)
    assert ctx.scalars(select(ArticleVote)).all() == []


def test_vote_with_the_pages_csrf_token_is_counted(csrf_client, make, ctx):
    brand = make.brand(slug="acme", locales=("en",))
    article = make.article(make.section(make.category(brand)), {"en": "Reset"})
    page = csrf_client.get(f"/acme/en/articles/{article.id}-reset").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = csrf_client.post(
        f"/acme/en/articles/{article.id}/vote", data={"helpful": "yes", "csrf_token": token}
    )
    assert response.status_code == 303
    assert len(ctx.scalars(select(ArticleVote)).all()) == 1
