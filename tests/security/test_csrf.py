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


def _inquiry_form(make):
    from portal.desk.models import InquiryForm

    brand = make.brand(slug="acme", locales=("en",))
    form = InquiryForm(brand_id=brand.id, names={"en": "Question"})
    make.session.add(form)
    make.session.commit()
    return form


def _inquiry(page: str, **extra) -> dict:
    data = {
        "key": re.search(r'name="key" value="([^"]+)"', page).group(1),
        "name": "Mina",
        "email": "mina@example.com",
        "subject": "Card declined",
        "description": "My card keeps being declined at checkout.",
    }
    data.update(extra)
    return data


def test_inquiry_without_csrf_token_is_refused_and_shown_again_with_its_text(
    csrf_client, make, ctx
):
    from portal.desk.models import Ticket

    form = _inquiry_form(make)
    url = f"/acme/en/requests/new?form={form.id}"
    page = csrf_client.get(url).get_data(as_text=True)
    response = csrf_client.post(url, data=_inquiry(page))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your session expired" in html and "My card keeps being declined" in html
    assert ctx.scalars(select(Ticket)).all() == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sent = csrf_client.post(url, data=_inquiry(html, csrf_token=token))
    assert sent.status_code == 303
    assert len(ctx.scalars(select(Ticket)).all()) == 1
