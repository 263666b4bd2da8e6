"""Model factories for tests: small, explicit, one call per object."""

import functools
import secrets
from datetime import timedelta
from itertools import count

from kb import clock
from kb.markdown import render
from kb.models import (
    Article,
    ArticleLabel,
    Brand,
    BrandHost,
    Category,
    CategoryTranslation,
    Organization,
    Section,
    SectionTranslation,
    Translation,
)
from kb.people import User
from kb.slugs import slugify
from portal.desk.models import Ticket

_seq = count(1)


@functools.cache
def _cheap_hash(password: str) -> str:
    """A real Argon2 hash with tiny cost parameters: logins in tests verify in microseconds."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(password)


class Factory:
    def __init__(self, session):
        self.session = session
        self._org = None

    def org(self) -> Organization:
        if self._org is None:
            self._org = Organization(name="Test Org")
            self.session.add(self._org)
        return self._org

    def user(self, role="editor", brands=(), email=None, password="x", name=None) -> User:
        """An account: "customer", or staff by role: "admin" (organization admin and admin of
        every brand), "owner" (organization admin only), or a built-in role on `brands`."""
        from portal.desk.accounts import create_or_update_user  # the web app's account rules
        from portal.security import roles

        n = next(_seq)
        user = create_or_update_user(
            self.session,
            email or f"{role}{n}@example.test",
            name or f"{role.title()} {n}",
            "customer" if role == "customer" else "staff",
        )
        user.password_hash = _cheap_hash(password)
        self.session.flush()
        if role == "admin":
            roles.grant(self.session, user, "owner")
            roles.grant(self.session, user, "admin", brands, every_brand=True)
        elif role != "customer":
            roles.grant(self.session, user, role, brands)
        self.session.commit()
        return user

    def brand(
        self,
        slug=None,
        locales=("en", "ko"),
        default=None,
        status="active",
        hosts=(),
        timezone="Asia/Seoul",
        **kw,
    ) -> Brand:
        n = next(_seq)
        brand = Brand(
            organization=self.org(),
            slug=slug or f"brand-{n}",
            name=kw.pop("name", f"Brand {n}"),
            default_locale=default or locales[0],
            locales=list(locales),
            timezone=timezone,
            status=status,
            tagline=kw.pop("tagline", {}),
            **kw,
        )
        brand.hosts = [BrandHost(host=h) for h in hosts]
        self.session.add(brand)
        self.session.commit()
        return brand

    def category(self, brand, titles=None, position=0) -> Category:
        titles = titles or {loc: f"Category {next(_seq)} {loc}" for loc in brand.locales}
        category = Category(brand_id=brand.id, position=position)
        category.translations = [
            CategoryTranslation(locale=loc, title=t, slug=slugify(t)) for loc, t in titles.items()
        ]
        self.session.add(category)
        self.session.commit()
        return category

    def section(self, category, titles=None, position=0) -> Section:
        brand_id = category.brand_id
        brand = self.session.get(Brand, brand_id)
        titles = titles or {loc: f"Section {next(_seq)} {loc}" for loc in brand.locales}
        section = Section(brand_id=brand_id, category_id=category.id, position=position)
        section.translations = [
            SectionTranslation(locale=loc, title=t, slug=slugify(t)) for loc, t in titles.items()
        ]
        self.session.add(section)
        self.session.commit()
        return section

    def article(
        self,
        section,
        titles=None,
        body="Some **text**.",
        kind="guide",
        status="published",
        publish_at=None,
        unpublish_at=None,
        promoted=False,
        position=0,
        labels=(),
        event_at=None,
    ) -> Article:
        brand = self.session.get(Brand, section.brand_id)
        titles = titles or {loc: f"Article {next(_seq)} {loc}" for loc in brand.locales}
        publish_at = publish_at or clock.now() - timedelta(days=1)
        rendered = render(body)
        article = Article(
            brand_id=brand.id,
            section_id=section.id,
            kind=kind,
            promoted=promoted,
            position=position,
            source_locale=brand.default_locale,
            event_at=event_at,
        )
        article.labels = [ArticleLabel(name=label) for label in labels]
        article.translations = [
            Translation(
                locale=loc,
                title=t,
                slug=slugify(t),
                body_md=body,
                body_html=rendered.html,
                toc=rendered.toc,
                status=status,
                publish_at=publish_at,
                unpublish_at=unpublish_at,
            )
            for loc, t in titles.items()
        ]
        self.session.add(article)
        self.session.commit()
        return article

    def ticket(self, brand, requester=None, **values) -> Ticket:
        """An open web request to `brand` from `requester` (an account; without one, from the
        address mina@example.com), "Card declined"; `values` override any column."""
        now = clock.now()
        columns = {
            "brand_id": brand.id,
            "locale": "en",
            "subject": "Card declined",
            "description": "My card is declined.",
            "status": "open",
            "requester_id": requester.id if requester else None,
            "requester_name": requester.name if requester else "Mina",
            "requester_email": requester.email if requester else "mina@example.com",
            "link_secret": secrets.token_hex(16),
            "answers": [],
            "details": {},
            "created_at": now,
            "updated_at": now,
        }
        merged = {**columns, **values}
        # What the schedule bot counts from, as intake sets it (the first message counts).
        merged.setdefault("status_changed_at", merged["created_at"])
        merged.setdefault("requester_replied_at", merged["created_at"])
        ticket = Ticket(**merged)
        self.session.add(ticket)
        self.session.commit()
        return ticket
