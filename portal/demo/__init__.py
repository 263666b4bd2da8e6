"""Demo content: two fictional brands from the TOML files beside this module, and accounts."""

import tomllib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import clock
from kb.markdown import render
from kb.models import (
    Article,
    ArticleLabel,
    Brand,
    Category,
    CategoryTranslation,
    Organization,
    Section,
    SectionTranslation,
    Translation,
)
from kb.people import Role
from kb.slugs import slugify
from portal.demo import agent_notices as demo_agent_notices
from portal.demo import automation as demo_automation
from portal.demo import forms as demo_forms
from portal.demo import mail as demo_mail
from portal.demo import notifications as demo_notifications
from portal.demo import requests as demo_requests
from portal.demo import schedules as demo_schedules
from portal.demo import translation as demo_translation
from portal.demo import webhooks as demo_webhooks
from portal.desk.accounts import create_or_update_user
from portal.security import audit, roles

DEMO_PASSWORD = "portal-demo"
WRITER = "Writer (drafts only)"
# (address, name, role): "admin" is an organization admin who is also admin of every brand;
# "owner" an organization admin only (members, security: no tickets, no content); editor,
# agent and light agent hold their role on each demo brand.
DEMO_ACCOUNTS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("owner@example.com", "Olivia Owner", "owner"),
    ("editor@example.com", "Eddie Editor", "editor"),
    ("agent@example.com", "Agnes Agent", "agent"),
    ("light@example.com", "Leo Light", "light_agent"),
    ("customer@example.com", "Chris Customer", "customer"),
    ("colleague@example.com", "Kim Colleague", "customer"),
    ("outsider@example.com", "Olle Outsider", "customer"),
]
CONTENT_DIR = Path(__file__).resolve().parent


def brand_files() -> list[Path]:
    return sorted(CONTENT_DIR.glob("*.toml"))


def load(session: Session) -> list[str]:
    """Create the demo organization, brands and accounts; brands already present are kept as is."""
    now = clock.now()
    org = session.scalar(select(Organization).where(Organization.name == "Demo Company"))
    if org is None:
        org = Organization(name="Demo Company")
        session.add(org)
    users = {
        email: create_or_update_user(
            session, email, name, "customer" if role == "customer" else "staff", DEMO_PASSWORD
        )
        for email, name, role in DEMO_ACCOUNTS
    }
    for user in users.values():
        user.organization_id = user.organization_id or (org.id if user.role == "staff" else None)
    session.flush()
    loaded = []
    for path in brand_files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        slug = data["brand"]["slug"]
        if session.scalar(select(Brand).where(Brand.slug == slug)) is None:
            brand = load_brand(session, org, data, users["editor@example.com"].id, now)
            demo_forms.load(session, {slug: brand})
            loaded.append(slug)
    brands = {b.slug: b for b in session.scalars(select(Brand))}
    _members(session, users, list(brands.values()), now)
    demo_requests.load(session, brands, users)
    demo_mail.load(session, brands)
    demo_agent_notices.load(session, users)
    demo_automation.load(session, brands)
    demo_translation.load(session)
    demo_schedules.load(session, brands)
    demo_notifications.load(session, brands)
    session.commit()
    demo_webhooks.load(session, brands)  # after the commit: it posts (and fails) at once
    return loaded


def _members(session: Session, users: dict, brands: list[Brand], now) -> None:
    """The demo's roles, and the custom role "Writer" (drafts only), recorded in the audit log
    the first time as a set-up would be."""
    first_time = session.scalar(select(Role.id).where(Role.name == WRITER)) is None
    for email, _name, role in DEMO_ACCOUNTS:
        user = users[email]
        if role == "admin":
            roles.grant(session, user, "owner")
            roles.grant(session, user, "admin", every_brand=True)
        elif role != "customer":
            roles.grant(session, user, role, brands)
    if not first_time:
        return
    for email, _name, role in DEMO_ACCOUNTS:
        if role != "customer":
            user = users[email]
            audit.record(
                session,
                "member.created",
                now=now,
                target=f"user:{user.id}",
                target_name=f"{user.name} <{user.email}>",
                details={"role": role, "by": "flask demo"},
            )
    roles.create_role(session, WRITER, ["kb.write"], actor=None, now=now)


def load_brand(session: Session, org: Organization, data: dict, author_id: int, now) -> Brand:
    b = data["brand"]
    brand = Brand(
        organization=org,
        slug=b["slug"],
        name=b["name"],
        tagline=b.get("tagline", {}),
        default_locale=b["default_locale"],
        locales=b["locales"],
        timezone=b["timezone"],
        primary_color=b["primary_color"],
        accent_color=b["accent_color"],
        status="active",
        jwt_secret=f"{b['slug']}-demo-sso-secret-known-to-everyone",  # demo only: public
    )
    session.add(brand)
    session.flush()
    categories = {}
    for c in data["categories"]:
        category = Category(brand_id=brand.id, position=c["position"])
        category.translations = [
            CategoryTranslation(
                locale=loc,
                title=title,
                description=c.get("description", {}).get(loc, ""),
                slug=slugify(title),
            )
            for loc, title in c["title"].items()
        ]
        session.add(category)
        categories[c["key"]] = category
    session.flush()
    sections = {}
    for s in data["sections"]:
        section = Section(
            brand_id=brand.id, category_id=categories[s["category"]].id, position=s["position"]
        )
        section.translations = [
            SectionTranslation(locale=loc, title=title, slug=slugify(title))
            for loc, title in s["title"].items()
        ]
        session.add(section)
        sections[s["key"]] = section
    session.flush()
    for a in data["articles"]:
        published = now - timedelta(days=a.get("published_days_ago", 30))
        if a.get("publish_in_days", 0) > 0:
            published = now + timedelta(days=a["publish_in_days"])
        article = Article(
            brand_id=brand.id,
            section_id=sections[a["section"]].id,
            kind=a["kind"],
            promoted=a.get("promoted", False),
            position=a.get("position", 0),
            source_locale=brand.default_locale,
            event_at=now + timedelta(days=a["event_in_days"]) if "event_in_days" in a else None,
            created_at=published,
        )
        article.labels = [ArticleLabel(name=label) for label in a.get("labels", [])]
        for loc, tr in a["translations"].items():
            rendered = render(tr["body"])
            article.translations.append(
                Translation(
                    locale=loc,
                    title=tr["title"],
                    slug=slugify(tr["title"]),
                    body_md=tr["body"],
                    body_html=rendered.html,
                    toc=rendered.toc,
                    status="published",
                    version=1,
                    # translated from the source's first version: not outdated
                    source_version=1 if loc != brand.default_locale else None,
                    publish_at=published,
                    author_id=author_id,
                    created_at=min(published, now),
                    updated_at=min(published, now),
                )
            )
        session.add(article)
    session.flush()
    return brand
