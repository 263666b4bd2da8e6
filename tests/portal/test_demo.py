"""The demo command's content: two brands a person can browse in every enabled language."""

from collections import Counter

import pytest
from sqlalchemy import select

from kb import clock
from kb.models import Article, Brand, Translation
from kb.people import User
from kb.visibility import is_visible
from portal import demo


@pytest.fixture
def loaded(app, ctx):
    with app.app_context():
        from portal.extensions import db

        demo.load(db.session)
        db.session.remove()
    return ctx


def test_demo_makes_two_brands_with_their_languages(loaded):
    brands = {b.slug: b for b in loaded.scalars(select(Brand))}
    assert brands["hanbit-pay"].locales == ["ko", "en", "ja"]
    assert brands["norrsken-energi"].locales == ["sv", "en"]
    assert all(b.status == "active" for b in brands.values())


def test_demo_has_fifteen_visible_articles_per_locale_and_every_kind(loaded):
    now = clock.now()
    rows = loaded.execute(
        select(Brand.slug, Translation, Article.kind)
        .join(Article, Article.brand_id == Brand.id)
        .join(Translation, Translation.article_id == Article.id)
    ).all()
    per_locale = Counter((slug, t.locale) for slug, t, _ in rows if is_visible(t, now))
    for key in [
        ("hanbit-pay", "ko"),
        ("hanbit-pay", "en"),
        ("hanbit-pay", "ja"),
        ("norrsken-energi", "sv"),
        ("norrsken-energi", "en"),
    ]:
        assert per_locale[key] >= 15, (key, per_locale[key])
    kinds = {(slug, kind) for slug, _, kind in rows}
    for slug in ("hanbit-pay", "norrsken-energi"):
        assert {k for s, k in kinds if s == slug} == {"guide", "faq", "notice", "event"}
    scheduled = [t for _, t, _ in rows if t.publish_at > now]
    assert {t.article_id for t in scheduled} and len({t.article_id for t in scheduled}) == 2


def test_demo_accounts_share_the_documented_password(loaded):
    from portal.desk.accounts import check_password

    users = {u.email: u for u in loaded.scalars(select(User))}
    for email in (
        "admin@example.com",
        "editor@example.com",
        "agent@example.com",
        "customer@example.com",
        "colleague@example.com",
        "outsider@example.com",
    ):
        assert check_password(users[email], "portal-demo")
        assert not check_password(users[email], "wrong")


def test_demo_is_safe_to_run_twice(app, loaded):
    with app.app_context():
        from portal.extensions import db

        assert demo.load(db.session) == []
        assert db.session.scalar(select(Brand).where(Brand.slug == "hanbit-pay")) is not None


def test_every_demo_page_answers(client, loaded):
    """Walk each brand's home, categories, sections and articles in every language: no errors."""
    import re

    for slug, locales in (("hanbit-pay", ("ko", "en", "ja")), ("norrsken-energi", ("sv", "en"))):
        for locale in locales:
            seen, queue = (
                set(),
                [f"/{slug}/{locale}/", f"/{slug}/{locale}/faq", f"/{slug}/{locale}/notices"],
            )
            while queue:
                url = queue.pop()
                if url in seen:
                    continue
                seen.add(url)
                response = client.get(url)
                assert response.status_code == 200, url
                for href in re.findall(r'href="([^"#?]+)"', response.get_data(as_text=True)):
                    if href.startswith(f"/{slug}/{locale}/") and "/search" not in href:
                        queue.append(href)
            assert len(seen) > 20, (slug, locale, len(seen))


def test_demo_translations_start_up_to_date(loaded):
    from kb.authoring import is_outdated

    rows = loaded.scalars(select(Translation)).all()
    sources = {(t.article_id, t.locale): t for t in rows}
    articles = {a.id: a for a in loaded.scalars(select(Article))}
    outdated = [
        t
        for t in rows
        if is_outdated(t, sources.get((t.article_id, articles[t.article_id].source_locale)))
    ]
    assert outdated == []


def test_demo_customers_have_requests_in_several_states_and_organizations(loaded):
    from kb.people import CustomerOrganization
    from portal.desk.models import Ticket, TicketFile, TicketShare

    users = {u.email: u for u in loaded.scalars(select(User))}
    orgs = {o.id: o for o in loaded.scalars(select(CustomerOrganization))}
    customer, colleague, outsider = (
        users[f"{name}@example.com"] for name in ("customer", "colleague", "outsider")
    )
    assert customer.customer_org_id == colleague.customer_org_id != outsider.customer_org_id
    assert orgs[customer.customer_org_id].shares_requests
    tickets = loaded.scalars(select(Ticket)).all()
    for person in (customer, colleague, outsider):
        mine = [t for t in tickets if t.requester_id == person.id]
        assert len(mine) >= 2 and len({t.status for t in mine}) >= 2
    shared = loaded.scalars(select(TicketShare)).all()
    assert [
        (s.email, s.ticket_id in {t.id for t in tickets if t.requester_id == customer.id})
        for s in shared
    ] == [("outsider@example.com", True)]
    assert loaded.scalars(select(TicketFile)).all()


def test_demo_requests_survive_a_second_run(app, loaded):
    from portal.desk.models import Ticket

    before = len(loaded.scalars(select(Ticket)).all())
    with app.app_context():
        from portal.extensions import db

        demo.load(db.session)
    assert len(loaded.scalars(select(Ticket)).all()) == before


def test_demo_webhook_is_shown_failing_with_its_delivery_log(loaded):
    from portal.desk.automation.models import WebhookDelivery, WebhookTarget

    [target] = loaded.scalars(select(WebhookTarget))
    assert target.kind == "signed" and target.allow_private and target.host == "127.0.0.1"
    [delivery] = loaded.scalars(select(WebhookDelivery))
    assert delivery.attempts == 1 and delivery.delivered_at is None
    assert "refused" in delivery.last_error.lower()


def test_demo_hanbit_pay_solves_and_closes_what_waits(loaded):
    from portal.desk.automation.models import ScheduleRule

    brand = loaded.scalar(select(Brand).where(Brand.slug == "hanbit-pay"))
    names = loaded.scalars(
        select(ScheduleRule.name)
        .where(ScheduleRule.brand_id == brand.id)
        .order_by(ScheduleRule.position)
    ).all()
    assert names == ["Solve after 7 days", "Close after 4 days"]


def test_hanbit_pay_words_its_notifications_in_each_language(app, loaded):
    from portal.desk.automation import notifications

    brand = loaded.scalar(select(Brand).where(Brand.slug == "hanbit-pay"))
    settings = {s.kind: s for s in notifications.settings(loaded, brand)}
    for kind in ("received", "agent_replied", "solved"):
        assert settings[kind].enabled and set(settings[kind].templates) == {"ko", "en", "ja"}
    assert not settings["closed"].enabled and not settings["pending_reminder"].enabled
    with app.app_context():
        from portal.extensions import db

        demo.load(db.session)  # a second run keeps them as they are
    assert len(notifications.settings(loaded, brand)[0].templates) == 3
