"""Who may do what, on every route: app.url_map walked against every kind of actor.

Every endpoint is classified in ACCESS; an access class says, per actor, what each request may
answer. A route that is not in ACCESS fails test_every_route_is_classified (and the walk) with its
name, so a new route cannot ship unclassified.

One world per test (the per-test table cleanup in tests/conftest.py rules out a module-wide one):
the walk is parametrized by actor and by page/htmx, and both variants are held to the same table,
so an htmx partial never gets a different decision than its full page. GETs run first, then POSTs,
destructive ones last (deletes, unshare, logout), so one request never changes what the next sees.
Besides the status, every body is searched for markers (ticket subjects, drafts, restricted
articles, internal notes) that the actor must never see, and no answer may be a 500.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from kb import clock
from kb.models import Attachment, Revision, SearchLog, SectionOrganization, Translation
from kb.people import BrandMember, CustomerOrganization
from kb.slugs import slugify
from portal.desk import assignment, forms, orgs, tickets
from portal.desk.automation import rules as automation_rules
from portal.desk.automation import webhooks
from portal.desk.automation.models import AgentNotice, WebhookDelivery
from portal.desk.models import (
    CannedResponse,
    ScheduledReply,
    Ticket,
    TicketFile,
    TicketMessage,
    TicketShare,
)
from portal.mail import addresses
from portal.mail.models import InboundMail, Mailbox
from portal.security import roles
from tests.conftest import PASSWORD

# -- actors ------------------------------------------------------------------------------------

ANON = "anonymous"
A = "customer_a"  # in organization A, which shares requests
B = "customer_b"  # another person, no organization
MEMBER = "org_member"  # a colleague of A in organization A
OTHER = "other_org"  # a customer of organization C (which does not share)
AGENT1, EDITOR1 = "agent_1", "editor_1"  # of brand alpha
AGENT2, EDITOR2 = "agent_2", "editor_2"  # of brand beta
ADMIN = "admin"  # organization admin, and admin of every brand
OWNER = "owner"  # organization admin only: members and security, no tickets, no content
LIGHT1 = "light_1"  # light agent of brand alpha: reads tickets, writes internal notes
WRITER1 = "writer_1"  # the custom role "Writer" (kb.write only) on brand alpha
ACTORS = (
    ANON,
    A,
    B,
    MEMBER,
    OTHER,
    AGENT1,
    EDITOR1,
    AGENT2,
    EDITOR2,
    ADMIN,
    OWNER,
    LIGHT1,
    WRITER1,
)
CUSTOMERS = (A, B, MEMBER, OTHER)

# Expectations: OK (the view did its work: 2xx/3xx for GET, any answer below 500 but 403/404 for
# POST, e.g. 400/422 for the empty form this walk sends), LOGIN (302 to /login), or a status.
OK, LOGIN = "ok", "login"

# -- the table: every endpoint and its access class ---------------------------------------------

ACCESS = {
    # Public help center, sign-in and sign-up pages, static files: everyone.
    "static": "public",
    "helpcenter.index": "public",
    "helpcenter.brand_root": "public",
    "helpcenter.home": "public",
    "helpcenter.category": "public",
    "helpcenter.faq": "public",
    "helpcenter.notices": "public",
    "helpcenter.search": "public",
    "helpcenter.robots_txt": "public",
    "helpcenter.sitemap_xml": "public",
    "requests.suggestions": "public",
    "account.login": "public",
    "account.logout": "public",
    "account.signup": "public",
    "account.reset_request": "public",
    "account.resend_confirmation": "public",
    "account.login_two_factor": "public",  # without a pending sign-in: back to /login
    # Articles: public ones for everyone, restricted sections for their organizations, drafts 404.
    "helpcenter.article": "article",
    "helpcenter.vote": "article",
    "helpcenter.search_click": "article",
    "requests.suggested": "article",
    "helpcenter.section": "section",
    "helpcenter.attachment_file": "article_file",
    "helpcenter.theme_file": "theme_file",
    # Inquiry forms by audience: everyone, signed-in people, chosen organizations.
    "requests.new_request": "inquiry_form",
    # A signed-in account's own pages.
    "requests.my_requests": "signed_in",
    "account.settings": "signed_in",
    "account.settings_email": "signed_in",
    "account.settings_password": "signed_in",
    "account.settings_profile": "signed_in",
    "account.security": "signed_in",  # staff enrol; customers are sent to their settings
    "account.security_start": "signed_in",
    "account.security_confirm": "signed_in",
    "account.security_disable": "signed_in",
    # Links mailed to a person: nothing without a valid token.
    "account.confirm": "account_token",
    "account.reset_password": "account_token",
    "account.confirm_email_change": "account_token",
    "helpcenter.draft_preview": "preview_link",
    "account.sso_jwt": "sso",
    # A request: Ticket.visible_to(customer), or its private link.
    "requests.show_request": "request",
    "requests.request_file": "request",
    "requests.solve_request": "requester",
    "requests.rate_request": "requester",
    "requests.share_request": "requester",
    "requests.unshare_request": "requester",
    # /admin: content staff (editors of their brands, admins).
    "admin.index": "staff",
    "admin.kb_articles": "staff",
    "admin.kb_schedule": "staff",
    "admin.kb_search_insights": "staff",
    "admin.kb_structure": "staff",
    "admin.kb_labels": "staff",
    "admin.kb_preview": "staff",
    "admin.inquiry_forms": "staff",
    "admin.kb_article_new": "staff_brand",
    "admin.kb_translation": "staff_brand",
    "admin.kb_revisions": "staff_brand",
    "admin.kb_restore": "staff_brand",
    "admin.kb_share": "staff_brand",
    "admin.kb_attachment_upload": "staff_brand",
    "admin.kb_attachment_delete": "staff_brand",
    "admin.kb_category_save": "staff_brand",
    "admin.kb_category_delete": "staff_brand",
    "admin.kb_section_save": "staff_brand",
    "admin.kb_section_delete": "staff_brand",
    "admin.kb_labels_save": "staff_brand",
    "admin.inquiry_form_new": "staff_brand",
    "admin.inquiry_form_edit": "staff_brand",
    "admin.inquiry_form_move": "staff_brand",
    "admin.inquiry_form_delete": "staff_brand",
    "admin.inquiry_field_new": "staff_brand",
    "admin.inquiry_field_edit": "staff_brand",
    "admin.inquiry_field_move": "staff_brand",
    "admin.inquiry_field_delete": "staff_brand",
    # Installation-wide: admins only.
    "agent.queues": "agent",
    "agent.queue_counts": "agent",
    "agent.organization_options": "agent",
    "agent.customer": "agent_customer",
    "agent.customer_by_email": "agent_customer",
    "agent.me": "agent",
    "agent.me_availability": "agent",
    "agent.bulk": "agent",
    "agent.canned_responses": "agent",
    "agent.canned_new": "agent",
    "agent.canned_edit": "agent_canned",
    "agent.canned_delete": "agent_canned",
    "agent.canned_insert": "agent_ticket",
    "agent.ticket_presence": "agent_ticket",
    "agent.ticket": "agent_ticket",
    "agent.ticket_reply": "agent_ticket",
    "agent.message_translate": "translation_message",
    "agent.ticket_properties": "agent_ticket",
    "agent.ticket_take": "agent_ticket",
    "agent.ticket_follow": "agent_ticket",
    # An agent's own notifications (each sees only theirs) and their choices.
    "agent.notifications": "agent_notifications",
    "agent.notification_count": "agent_notifications",
    "agent.notifications_read": "agent_notifications",
    "agent.notification_settings": "agent_notifications",
    "agent.ticket_file": "agent_ticket",
    # It goes out in its author's name: only they change it or send it early.
    "agent.scheduled_reply_edit": "agent_scheduled_author",
    "agent.scheduled_reply_send": "agent_scheduled_author",
    "agent.scheduled_reply_cancel": "agent_ticket",
    "admin.mail_index": "admin_only",
    "admin.mail_message": "admin_only",
    "admin.organizations": "admin_only",
    "admin.organization_new": "admin_only",
    "admin.organization_edit": "admin_only",
    "admin.organization_member_add": "admin_only",
    "admin.organization_member_remove": "admin_only",
    "admin.organization_delete": "admin_only",
    "admin.groups": "admin_only",
    "admin.group_new": "admin_only",
    "admin.group_edit": "admin_only",
    "admin.group_delete": "admin_only",
    "admin.routing_save": "admin_only",
    "admin.mail_addresses": "admin_only",
    "admin.mail_address_new": "admin_only",
    "admin.mail_address_edit": "admin_only",
    "admin.mail_address_remove": "admin_only",
    "admin.mail_in": "admin_only",
    "admin.mail_in_retry": "admin_only",
    "admin.mail_in_raw": "admin_only",
    "admin.audit_log": "security_admin",
    "admin.audit_csv": "security_admin",
    "agent.ticket_mail": "agent_ticket",
    "admin.mailboxes": "admin_only",
    "admin.mailbox_new": "admin_only",
    "admin.mailbox_edit": "admin_only",
    "admin.mailbox_check": "admin_only",
    "admin.mailbox_delete": "admin_only",
    "admin.automation_webhooks": "automation_webhooks",
    "admin.automation_webhook_new": "automation_webhooks",
    "admin.automation_webhook_edit": "automation_webhooks",
    "admin.automation_webhook_delete": "automation_webhooks",
    "admin.automation_webhook_test": "automation_webhooks",
    "admin.automation_webhook_rotate": "automation_webhooks",
    "admin.automation_webhook_log": "automation_webhooks",
    "admin.automation_webhook_retry": "automation_webhooks",
    "admin.security_settings": "security_admin",
    # Members and roles: holders of "members" (organization admins).
    "admin.members_list": "security_admin",
    "admin.member_invite": "security_admin",
    "admin.member_edit": "security_admin",
    "admin.member_action": "security_admin",
    "admin.member_resend": "security_admin",
    "admin.roles_list": "security_admin",
    "admin.role_new": "security_admin",
    "admin.role_edit": "security_admin",
    "admin.role_delete": "security_admin",
    "account.accept_invitation": "account_token",
    "admin.security_allowlist": "security_admin",
    "admin.translation_settings": "automation_translation",
    "admin.translation_test": "automation_translation",
    "admin.tenant_settings": "security_admin",
    "admin.tenant_api_key": "security_admin",
    # Deleting tickets and blocking requesters: "tickets.delete" / "tickets.block" on the brand
    # (admins today; agents hold neither: 403 on a ticket or requester they see).
    "agent.ticket_trash": "agent_ticket_delete",
    "agent.trash_list": "agent_trash",
    "agent.trash_restore": "agent_trashed",
    "agent.trash_purge": "agent_trashed",
    "agent.requester_block": "agent_block",
    "agent.requester_unblock": "agent_block",
    # A permission on the brand named in the query string (tickets.export, settings).
    "admin.export_page": "brand_permission",
    "admin.export_download": "brand_permission",
    "admin.retention_settings": "brand_permission",
    # The schedule bot (issue 19): "automation" on the brand (admins).
    "admin.automation_schedules": "automation_schedules",
    "admin.automation_schedule_new": "automation_schedules",
    "admin.automation_schedule_edit": "automation_schedules",
    "admin.automation_schedule_delete": "automation_schedules",
    "admin.automation_schedule_move": "automation_schedules",
    "admin.automation_schedule_active": "automation_schedules",
    "admin.automation_business_hours": "automation_schedules",
    # Customisation: members holding "settings" (admins here); editors hold it on no brand.
    "admin.brand_settings": "admin_only",
    "admin.brand_theme": "admin_only",
    "admin.brand_mail_template": "admin_only",
    "admin.backoffice_branding": "admin_only",
    # The rule bot's pages: "automation" on the rule's brand (admins; nobody else today).
    "admin.automation_rules": "automation_rules",
    "admin.automation_rule_new": "automation_rules",
    "admin.automation_rule_edit": "automation_rules",
    "admin.automation_rule_active": "automation_rules",
    "admin.automation_rule_move": "automation_rules",
    "admin.automation_rule_delete": "automation_rules",
    # Customer notifications: "automation" on the brand (admins hold it on every brand).
    "admin.automation_notifications": "automation_notifications",
    "admin.automation_notification_switch": "automation_notifications",
    "admin.automation_notification": "automation_notifications",
}

# POSTs that change what later requests see run last, in this order.
LAST = (
    "requests.unshare_request",
    "admin.automation_schedule_delete",
    "agent.canned_delete",
    "admin.kb_attachment_delete",
    "admin.inquiry_field_delete",
    "admin.inquiry_form_delete",
    "admin.organization_member_remove",
    "admin.organization_delete",
    "admin.group_delete",
    "admin.automation_rule_delete",
    "admin.mail_address_remove",
    "admin.mailbox_delete",
    "admin.automation_webhook_delete",
    "admin.role_delete",
    "admin.member_action",
    "account.logout",
)

# Text that only these actors may ever see, in any answer (cases may grant more: a private link).
MARKERS = {
    # Requests of brand alpha: their people, and alpha's agent and the admin in /agent.
    "ZqT1": {A, MEMBER, AGENT1, LIGHT1, ADMIN},  # A's request; A's organization shares them
    "ZqT2": {A, MEMBER, B, AGENT1, LIGHT1, ADMIN},  # A's request shared with B
    "ZqT3": {OTHER, AGENT1, LIGHT1, ADMIN},  # the other organization's request
    "ZqInternal": {AGENT1, LIGHT1, ADMIN},  # an internal note (and its file): agent views only
    "ZqDraft Alpha": {EDITOR1, WRITER1, ADMIN},
    "ZqDraft Beta": {EDITOR2, ADMIN},
    "ZqRestricted": {A, MEMBER, EDITOR1, WRITER1, ADMIN},  # a section for organization A
    # A form for organization A (alpha's agent sees its name in the queues' form filter).
    "ZqOrgForm": {A, MEMBER, EDITOR1, AGENT1, LIGHT1, ADMIN},
    "ZqSignedInForm": set(ACTORS) - {ANON},  # a form for signed-in people
    # A's request in the trash: gone for A and for agents who may not delete (only the trash
    # and its page show it, to those who may).
    "ZqTrashed": {ADMIN},
    # A notice for alpha's agent (about t1): their notifications list only.
    "ZqNotice": {AGENT1},
}


def everyone(expect) -> dict:
    return dict.fromkeys(ACTORS, expect)


def only(readers, others=404, anonymous=None) -> dict:
    expect = everyone(others)
    expect.update(dict.fromkeys(readers, OK))
    if anonymous is not None:
        expect[ANON] = anonymous
    return expect


def staff(scope: str, permission: str = "kb.write") -> dict:
    """/admin: sign in first; customers, agents and organization admins without a working role
    403; editors (and writers, for the knowledge base) within their brands."""
    no_back_office = (*CUSTOMERS, AGENT1, AGENT2, LIGHT1, OWNER)
    expect = {ANON: LOGIN, **dict.fromkeys(no_back_office, 403)}
    expect.update({EDITOR1: OK, EDITOR2: OK, ADMIN: OK})
    expect[WRITER1] = OK if permission == "kb.write" else 403
    if scope == "alpha":
        expect[EDITOR2] = 404
    elif scope == "beta":
        expect[EDITOR1] = 404
        if permission == "kb.write":
            expect[WRITER1] = 404
    elif scope == "admin":
        expect[EDITOR1] = expect[EDITOR2] = expect[WRITER1] = 403
    elif scope == "security":
        expect[EDITOR1] = expect[EDITOR2] = expect[WRITER1] = 403
        expect[OWNER] = OK
    return expect


def agents(scope: str = "any") -> dict:
    """/agent: sign in first; customers, editors and organization admins 403; agents (light
    ones too) within their brands."""
    expect = {ANON: LOGIN, **dict.fromkeys((*CUSTOMERS, EDITOR1, EDITOR2, WRITER1, OWNER), 403)}
    expect.update({AGENT1: OK, AGENT2: OK, ADMIN: OK, LIGHT1: OK})
    if scope == "alpha":
        expect[AGENT2] = 404
    return expect


def request_view(*viewers) -> dict:
    """A request's page: people in its scope; anonymous visitors sign in; everyone else 404."""
    return only(viewers, anonymous=LOGIN)


def requester_only(requester, *viewers) -> dict:
    """Solve, rate, share: the requester; others who see the request 403; everyone else 404."""
    expect = only((requester,), anonymous=LOGIN)
    expect.update(dict.fromkeys(viewers, 403))
    return expect


# -- the world ---------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    values: dict
    expect: dict
    query: str = ""
    data: dict = field(default_factory=dict)
    methods: tuple = ("GET", "POST")
    grants: tuple = ()  # markers this case may show to anyone (a private link's page)


@dataclass
class World:
    users: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    created_files: list = field(default_factory=list)
    created_dirs: list = field(default_factory=list)


def _mkdir(world: World, folder: Path) -> None:
    """As the app makes its folders (0700); removed after the test when made here."""
    for part in reversed([folder, *folder.parents]):
        if not part.exists():
            part.mkdir(mode=0o700)
            world.created_dirs.append(part)


def _keep_file(world: World, folder: Path, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    path = folder / sha[:2] / sha
    if not path.exists():
        _mkdir(world, path.parent)
        path.write_bytes(content)
        path.chmod(0o600)
        world.created_files.append(path)
    return sha


def _attachment(ctx, world, uploads, article, locale, name) -> Attachment:
    content = f"file {name} {secrets.token_hex(4)}".encode()
    row = Attachment(
        brand_id=article.brand_id,
        article_id=article.id,
        locale=locale,
        sha256=_keep_file(world, uploads, content),
        filename=name,
        content_type="text/plain",
        size=len(content),
    )
    ctx.add(row)
    ctx.commit()
    return row


def _ticket(ctx, brand, requester, subject, org=None) -> Ticket:
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description=f"About {subject}",
        status="open",
        requester_id=requester.id,
        requester_name=requester.name,
        requester_email=requester.email,
        customer_org_id=org.id if org else None,
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    ctx.add(row)
    ctx.flush()
    ctx.add(
        TicketMessage(
            ticket_id=row.id,
            author_id=requester.id,
            author_name=requester.name,
            author_email=requester.email,
            body=f"About {subject}",
        )
    )
    ctx.commit()
    return row


def _ticket_file(ctx, world, uploads, ticket, name, content: bytes, message=None) -> TicketFile:
    row = TicketFile(
        token=secrets.token_hex(16),
        brand_id=ticket.brand_id,
        ticket_id=ticket.id,
        message_id=message.id if message else None,
        sha256=_keep_file(world, uploads, content),
        filename=name,
        content_type="text/plain",
        size=len(content),
    )
    ctx.add(row)
    ctx.commit()
    return row


def _share(ctx, ticket, email, user=None) -> TicketShare:
    row = TicketShare(ticket_id=ticket.id, email=email, user_id=user.id if user else None)
    ctx.add(row)
    ctx.commit()
    return row


def _brand_content(ctx, make, world, uploads, brand, name) -> dict:
    category = make.category(brand, {"en": f"{name} help"})
    section = make.section(category, {"en": f"{name} everyday"})
    article = make.article(section, {"en": f"{name} guide"})
    draft = make.article(section, {"en": f"ZqDraft {name} notes"}, status="draft")
    t = ctx.scalar(select(Translation).where(Translation.article_id == article.id))
    revision = Revision(
        translation_id=t.id, version=1, title=t.title, slug=t.slug, body_md=t.body_md, status="x"
    )
    ctx.add(revision)
    ctx.commit()
    form = forms.create_form(ctx, brand, {"en": f"{name} question"}, {})
    form_field = forms.add_field(ctx, form, key="device", type="text", labels={"en": "Device"})
    return {
        "brand": brand.slug,
        "locale": "en",
        "category_id": category.id,
        "category_slug": f"{category.id}-{slugify(f'{name} help')}",
        "section_id": section.id,
        "section_slug": f"{section.id}-{slugify(f'{name} everyday')}",
        "article_id": article.id,
        "article_slug": f"{article.id}-{t.slug}",
        "draft_id": draft.id,
        "draft_slug": f"{draft.id}-{slugify(f'ZqDraft {name} notes')}",
        "revision_id": revision.id,
        "att_id": _attachment(ctx, world, uploads, article, None, "guide.txt").id,
        "draft_att_id": _attachment(ctx, world, uploads, draft, "en", "draft.txt").id,
        "form_id": form.id,
        "field_id": form_field.id,
        "draft_translation_id": ctx.scalar(
            select(Translation.id).where(Translation.article_id == draft.id)
        ),
    }


def build_world(app, ctx, make) -> World:
    world = World()
    uploads = Path(app.instance_path) / "uploads"
    org_a = CustomerOrganization(name="Organization A", domains=[], shares_requests=True)
    org_c = CustomerOrganization(name="Organization C", domains=[], shares_requests=False)
    ctx.add_all([org_a, org_c])
    ctx.commit()

    alpha = make.brand(slug="alpha", locales=("en",), name="Alpha", jwt_secret="s" * 40)
    beta = make.brand(slug="beta", locales=("en",), name="Beta")
    users = world.users
    for actor, role, brand, org in (
        (A, "customer", None, org_a),
        (B, "customer", None, None),
        (MEMBER, "customer", None, org_a),
        (OTHER, "customer", None, org_c),
        (AGENT1, "agent", alpha, None),
        (EDITOR1, "editor", alpha, None),
        (AGENT2, "agent", beta, None),
        (EDITOR2, "editor", beta, None),
        (ADMIN, "admin", None, None),
        (OWNER, "owner", None, None),
        (LIGHT1, "light_agent", alpha, None),
        (WRITER1, "editor", None, None),  # staff without a role yet: the custom one below
    ):
        user = make.user(
            role=role,
            brands=[brand] if brand else (),
            email=f"{actor.replace('_', '-')}@example.test",
            password=PASSWORD,
        )
        if org is not None:
            user.customer_org_id = org.id
            ctx.commit()
        users[actor] = user

    writer = roles.create_role(ctx, "Writer", ["kb.write"], actor=None, now=clock.now())
    ctx.add(BrandMember(user_id=users[WRITER1].id, brand_id=alpha.id, role_id=writer.id))
    ctx.commit()
    spare_staff = make.user(role="agent", brands=[beta], email="spare-agent@example.test")
    world.ids.update(role_id=writer.id, staff_id=spare_staff.id)

    content = {
        "alpha": _brand_content(ctx, make, world, uploads, alpha, "Alpha"),
        "beta": _brand_content(ctx, make, world, uploads, beta, "Beta"),
    }
    ids = world.ids
    ids["content"] = content

    # A section (and its article and file) for organization A only, in brand alpha.
    category = make.category(alpha, {"en": "Partners"})
    partners = make.section(category, {"en": "Partner desk"})
    partners.audience = "organizations"
    partners.organizations = [SectionOrganization(organization_id=org_a.id)]
    ctx.commit()
    restricted = make.article(partners, {"en": "ZqRestricted rates"})
    ids["restricted_id"] = restricted.id
    ids["restricted_slug"] = f"{restricted.id}-{slugify('ZqRestricted rates')}"
    ids["restricted_section_slug"] = f"{partners.id}-{slugify('Partner desk')}"
    ids["restricted_att_id"] = _attachment(ctx, world, uploads, restricted, None, "rates.txt").id

    # Forms for signed-in people and for organization A.
    ids["signed_in_form"] = forms.create_form(
        ctx, alpha, {"en": "ZqSignedInForm"}, {}, audience="signed_in"
    ).id
    ids["org_form"] = forms.create_form(
        ctx, alpha, {"en": "ZqOrgForm"}, {}, audience="organizations", organization_ids=[org_a.id]
    ).id

    # Requests: A's (organization A shares requests), A's shared with B, organization C's.
    t1 = _ticket(ctx, alpha, users[A], "ZqT1 card declined", org_a)
    t2 = _ticket(ctx, alpha, users[A], "ZqT2 refund", org_a)
    t3 = _ticket(ctx, alpha, users[OTHER], "ZqT3 invoice", org_c)
    trashed = _ticket(ctx, alpha, users[A], "ZqTrashed old question", org_a)
    trashed.deleted_at = clock.now()
    ctx.commit()
    note = TicketMessage(
        ticket_id=t1.id,
        author_id=users[AGENT1].id,
        author_name="Agent",
        from_requester=False,
        public=False,
        body="ZqInternal note: customer is on the watch list",
    )
    ctx.add(note)
    ctx.commit()
    ids.update(
        t1=t1.id,
        t2=t2.id,
        t3=t3.id,
        trashed=trashed.id,
        trashed_token=tickets.link_token(app.config["SECRET_KEY"], trashed),
        t1_token=tickets.link_token(app.config["SECRET_KEY"], t1),
        t3_token=tickets.link_token(app.config["SECRET_KEY"], t3),
        f1=_ticket_file(ctx, world, uploads, t1, "t1.txt", b"file of request one").id,
        f2=_ticket_file(ctx, world, uploads, t2, "t2.txt", b"file of request two").id,
        f3=_ticket_file(ctx, world, uploads, t3, "t3.txt", b"file of request three").id,
        internal_file=_ticket_file(
            ctx, world, uploads, t1, "note.txt", b"ZqInternal file of a note", message=note
        ).id,
        # One share of A's request per case, so that unsharing in one leaves the next its own.
        sh1=_share(ctx, t1, "friend@elsewhere.test").id,
        sh1_link=_share(ctx, t1, "friend2@elsewhere.test").id,
        sh1_bad_link=_share(ctx, t1, "friend3@elsewhere.test").id,
        sh2=_share(ctx, t2, users[B].email, users[B]).id,
        sh3=_share(ctx, t3, "colleague@elsewhere.test").id,
    )

    # Admin-only objects: an organization with a member, a message in the mail sink.
    spare = orgs.create_organization(ctx, "Spare Company", "spare.example", True)
    spare_member = make.user(role="customer", email="someone@spare.example")
    orgs.add_member(ctx, spare, spare_member.email)
    ids.update(org_id=spare.id, org_member_id=spare_member.id)
    group = assignment.save_group(ctx, None, alpha.id, "Alpha front line", [])
    ids.update(group_id=group.id, alpha_id=alpha.id)
    rule = automation_rules.save_rule(
        ctx,
        None,
        alpha,
        None,
        automation_rules.Draft(
            name="Alpha rule", events=["ticket_created"], actions=[("set_priority", "high", "")]
        ),
        now=clock.now(),
    )
    ctx.commit()
    ids["automation_rule_id"] = rule.id
    # A mailbox on a port nothing listens on: its "Check now" fails at once.
    mailbox = Mailbox(
        brand_id=alpha.id,
        host="127.0.0.1",
        port=9,
        security="none",
        username="help@alpha.test",
        password="x",
    )
    ctx.add(mailbox)
    ctx.commit()
    ids["mailbox_id"] = mailbox.id
    # A signed webhook of alpha on a port nothing listens on, with one failed delivery.
    hook, _secret = webhooks.save_target(
        ctx,
        None,
        alpha,
        None,
        webhooks.TargetSettings(
            "Alpha hook", "signed", "http://127.0.0.1:9/h", None, ("alert",), True, True
        ),
        clock.now(),
        app.config["SECRET_KEY"],
    )
    hook_delivery = WebhookDelivery(
        target_id=hook.id,
        event="alert",
        payload={},
        created_at=clock.now(),
        attempts=8,
        next_attempt_at=clock.now(),
        failed_at=clock.now(),
    )
    ctx.add(hook_delivery)
    ctx.commit()
    ids.update(webhook_id=hook.id, webhook_delivery_id=hook_delivery.id)
    ids["sink_name"] = "20261125T120000000000Z-0a1b2c3d.eml"
    sink = Path(app.config["MAIL_SINK_DIR"])
    _mkdir(world, sink)
    message = sink / ids["sink_name"]
    message.write_text("From: a@example.test\nTo: b@example.test\nSubject: Hi\n\nHello.\n")
    world.created_files.append(message)
    # A support address of alpha, and a mail that came to it and became a message of t1 (kept
    # done: an admin's retry of it answers without processing anything).
    address = addresses.add(
        ctx,
        address="help@alpha.example",
        brand_id=alpha.id,
        form_id=None,
        customer_org_id=None,
        name="",
        now=clock.now(),
    )
    raw = b"From: a@example.test\r\nSubject: ZqT1 by mail\r\n\r\nZqT1 again\r\n"
    mail = InboundMail(
        source="smtp",
        recipients=["help@alpha.example"],
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        status="done",
        ticket_id=ids["t1"],
    )
    ctx.add(mail)
    ctx.flush()
    by_mail = TicketMessage(
        ticket_id=ids["t1"],
        author_name="A",
        body="ZqT1 by mail",
        channel="email",
        inbound_mail_id=mail.id,
    )
    ctx.add(by_mail)
    ctx.commit()
    ids.update(address_id=address.id, mail_id=mail.id, mail_message_id=by_mail.id)

    # A canned response for brand alpha's agents.
    canned = CannedResponse(brand_id=alpha.id, title="Greeting", body="Hello {{requester_name}}")
    ctx.add(canned)
    ctx.commit()
    ids["canned_id"] = canned.id
    # A reply of alpha's agent waiting to be sent (its text is for agents only until then).
    waiting = ScheduledReply(
        ticket_id=ids["t1"],
        author_id=users[AGENT1].id,
        body="ZqInternal scheduled reply",
        send_at=clock.now() + timedelta(hours=1),
        files_key="0" * 32,
    )
    ctx.add(waiting)
    ctx.commit()
    ids["scheduled_id"] = waiting.id

    # A notice for alpha's agent: someone mentioned them in a note on t1.
    ctx.add(
        AgentNotice(
            user_id=users[AGENT1].id,
            ticket_id=ids["t1"],
            kind="mentioned",
            text="ZqNotice: have a look",
            actor_name="Agent",
        )
    )
    ctx.commit()

    log = SearchLog(brand_id=alpha.id, locale="en", query="guide", results=1)
    ctx.add(log)
    ctx.commit()
    ids["log_id"] = log.id
    from portal.desk.automation.models import ScheduleRule  # (the schedule bot, issue 19)

    schedule = ScheduleRule(brand_id=alpha.id, name="Solve", conditions=[], actions=[])
    ctx.add(schedule)
    ctx.commit()
    ids["schedule_id"] = schedule.id
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="draft-preview")
    ids["preview_token"] = serializer.dumps({"t": content["alpha"]["draft_translation_id"]})
    return world


# -- the cases of each access class ----------------------------------------------------------


def cases(access: str, endpoint: str, world: World) -> list[Case]:
    ids = world.ids
    alpha, beta = ids["content"]["alpha"], ids["content"]["beta"]
    hc = {"brand": "alpha", "locale": "en"}

    if access == "public":
        values = {**hc, "id_slug": alpha["category_slug"], "filename": "css/portal.css"}
        return [Case("page", values, everyone(OK), query="?q=rates&subject=rates")]

    if access == "article":
        data = {"helpful": "yes"}

        def article(kind, article_id, slug):
            values = {**hc, "article_id": article_id, "id_slug": slug, "log_id": ids["log_id"]}
            return dict(values=values, data=data, label=f"{kind} article")

        return [
            Case(
                expect=everyone(OK), **article("public", alpha["article_id"], alpha["article_slug"])
            ),
            Case(
                expect=only((A, MEMBER)),
                **article("restricted", ids["restricted_id"], ids["restricted_slug"]),
            ),
            Case(expect=everyone(404), **article("draft", alpha["draft_id"], alpha["draft_slug"])),
        ]

    if access == "section":
        return [
            Case("public section", {**hc, "id_slug": alpha["section_slug"]}, everyone(OK)),
            Case(
                "restricted section",
                {**hc, "id_slug": ids["restricted_section_slug"]},
                only((A, MEMBER)),
            ),
        ]

    if access == "article_file":

        def file(att_id):
            return {"att_id": att_id, "name": "file.txt"}

        return [
            Case("public article's file", file(alpha["att_id"]), everyone(OK)),
            Case(
                "restricted article's file",
                file(ids["restricted_att_id"]),
                only((A, MEMBER, EDITOR1, WRITER1, ADMIN)),
            ),
            Case(
                "alpha draft's file", file(alpha["draft_att_id"]), only((EDITOR1, WRITER1, ADMIN))
            ),
            Case("beta draft's file", file(beta["draft_att_id"]), only((EDITOR2, ADMIN))),
        ]

    if access == "inquiry_form":
        signed_in = everyone(OK)
        signed_in[ANON] = 404
        return [
            Case("list of forms", hc, everyone(OK), methods=("GET",)),
            Case("form for everyone", hc, everyone(OK), query=f"?form={alpha['form_id']}"),
            Case("signed-in form", hc, signed_in, query=f"?form={ids['signed_in_form']}"),
            Case("organization's form", hc, only((A, MEMBER)), query=f"?form={ids['org_form']}"),
            Case("other brand's form", hc, everyone(404), query=f"?form={beta['form_id']}"),
        ]

    if access == "theme_file":
        # Served only while a brand or an organization uses it (none does here).
        return [Case("a file no brand uses", {"sha256": "a" * 64, "ext": "png"}, everyone(404))]

    if access == "signed_in":
        return [Case("own pages", hc, only(ACTORS, anonymous=LOGIN))]

    if access == "account_token":
        return [Case("made-up token", {"token": "x" * 43}, everyone(404))]

    if access == "preview_link":
        return [
            Case(
                "valid link",
                {"token": ids["preview_token"]},
                everyone(OK),
                grants=("ZqDraft Alpha",),
            ),
            Case("made-up link", {"token": "x" * 40}, everyone(404)),
        ]

    if access == "sso":
        return [
            Case("brand with SSO, no token", {"brand": "alpha"}, everyone(400)),
            Case("brand without SSO", {"brand": "beta"}, everyone(404)),
        ]

    if access in ("request", "requester"):
        view = request_view if access == "request" else requester_only

        def by_link(valid: bool) -> dict:
            """Signed-in people who see the request get their own view (the token is not looked
            at); anyone else gets what the token gives: the page (no requester-only action)
            when it is this request's, else 404."""
            expect = everyone(OK if valid and access == "request" else 404)
            for actor, own in view(A, MEMBER).items():
                if actor != ANON and own != 404:
                    expect[actor] = own
            return expect

        def ticket(ticket_id, file_id, share_id, brand="alpha"):
            return {
                "brand": brand,
                "locale": "en",
                "ticket_id": ticket_id,
                "file_id": file_id,
                "name": "file.txt",
                "share_id": share_id,
            }

        t1 = ticket(ids["t1"], ids["f1"], ids["sh1"])
        found = [
            Case("A's request", t1, view(A, MEMBER)),
            Case(
                "A's request shared with B",
                ticket(ids["t2"], ids["f2"], ids["sh2"]),
                view(A, MEMBER, B),
            ),
            Case(
                "A's request by its private link",
                ticket(ids["t1"], ids["f1"], ids["sh1_link"]),
                by_link(valid=True),
                query=f"?token={ids['t1_token']}",
                grants=("ZqT1",),
            ),
            Case(
                "A's request with another request's link",
                ticket(ids["t1"], ids["f1"], ids["sh1_bad_link"]),
                by_link(valid=False),
                query=f"?token={ids['t3_token']}",
            ),
            Case(
                "A's request under the other brand",
                ticket(ids["t1"], ids["f1"], ids["sh1"], brand="beta"),
                only((), anonymous=LOGIN),
            ),
            Case("C's request", ticket(ids["t3"], ids["f3"], ids["sh3"]), view(OTHER)),
        ]
        if endpoint == "requests.request_file":
            internal = ticket(ids["t1"], ids["internal_file"], ids["sh1"])
            found += [
                Case("internal note's file", internal, only((), anonymous=LOGIN)),
                Case(
                    "internal note's file by the private link",
                    internal,
                    everyone(404),
                    query=f"?token={ids['t1_token']}",
                ),
                Case(
                    "another request's file under A's request",
                    ticket(ids["t1"], ids["f3"], ids["sh1"]),
                    only((), anonymous=LOGIN),
                ),
            ]
        if endpoint == "requests.unshare_request":
            expect = only((), anonymous=LOGIN)
            expect[MEMBER] = 403
            found.append(
                Case(
                    "another request's share under A's request",
                    ticket(ids["t1"], ids["f1"], ids["sh3"]),
                    expect,
                )
            )
        return found

    # The forms' pages ask for "forms", the knowledge base's for "kb.write".
    permission = "forms" if endpoint.startswith("admin.inquiry_") else "kb.write"

    if access == "staff":
        on_alpha, on_beta = staff("any", permission), staff("any", permission)
        on_alpha[EDITOR2] = (OK, 404)  # a list without the other brand's rows, or 404
        on_beta[EDITOR1] = (OK, 404)
        if permission == "kb.write":
            on_beta[WRITER1] = (OK, 404)
        everywhere = staff("any", permission)
        if endpoint == "admin.index":  # to the first page the member may use
            everywhere[OWNER] = on_alpha[OWNER] = on_beta[OWNER] = OK
        return [
            Case("list", {}, everywhere),
            Case("list of alpha", {}, on_alpha, query="?brand=alpha"),
            Case("list of beta", {}, on_beta, query="?brand=beta"),
        ]

    if access == "staff_brand":
        found = []
        for name, content in (("alpha", alpha), ("beta", beta)):
            expect = staff(name, permission)
            if endpoint == "admin.kb_restore" and name == "alpha":
                expect[WRITER1] = 403  # restoring a published article's text publishes it
            found.append(
                Case(
                    f"{name}'s object",
                    content,
                    expect,
                    query=f"?brand={name}&locale=en",
                    data={"brand": name},
                )
            )
        return found

    if access == "agent":
        return [
            Case("queues", {}, agents()),
            Case("alpha's queue", {}, agents(), query="?brand=alpha"),
        ]

    if access == "agent_ticket":
        values = {
            "ticket_id": ids["t1"],
            "canned_id": ids["canned_id"],
            "reply_id": ids["scheduled_id"],
            "file_id": ids["internal_file"],
            "name": "note.txt",
            "message_id": ids["mail_message_id"],
        }
        # (?canned= chooses the response for the insert URL without an id in its path)
        query = f"?canned={ids['canned_id']}"
        expect = agents("alpha")
        if endpoint == "agent.scheduled_reply_cancel":
            expect[LIGHT1] = 403  # a reply to the customer is not a light agent's to stop
        return [Case("a ticket of alpha", values, expect, query=query)]

    if access == "agent_notifications":
        return [Case("my notifications", {}, agents(), query="?page=1")]

    if access == "agent_ticket_delete":
        # alpha's agents see it, may not delete it
        expect = agents("alpha") | {AGENT1: 403, LIGHT1: 403}
        return [Case("a ticket of alpha", {"ticket_id": ids["t1"]}, expect)]

    if access == "agent_trash":
        return [Case("the trash", {}, agents() | {AGENT1: 403, AGENT2: 403, LIGHT1: 403})]

    if access == "agent_trashed":
        expect = agents() | {AGENT1: 404, AGENT2: 404, LIGHT1: 404}  # (a ticket gone, for them)
        return [Case("A's request in the trash", {"ticket_id": ids["trashed"]}, expect)]

    if access == "agent_block":
        # A asked alpha something: blocking A is for those holding "tickets.block" there.
        query = f"?email={world.users[A].email}&brand={ids['alpha_id']}"
        expect = agents("alpha") | {AGENT1: 403, LIGHT1: 403}
        methods = ("POST",) if endpoint == "agent.requester_unblock" else ("GET", "POST")
        return [Case("customer A in alpha", {}, expect, query=query, methods=methods)]

    if access == "agent_scheduled_author":
        values = {"ticket_id": ids["t1"], "reply_id": ids["scheduled_id"]}
        # alpha's agent wrote it; others may only see it
        expect = agents("alpha") | {ADMIN: 403, LIGHT1: 403}
        return [Case("agent_1's scheduled reply", values, expect)]

    if access == "agent_customer":
        # A's profile (by id, or by the address, which leads to it): A has requests in alpha.
        customer = world.users[A]
        values, query = {"user_id": customer.id}, f"?email={customer.email}"
        return [Case("customer A", values, agents("alpha"), query=query, methods=("GET",))]

    if access == "agent_canned":
        return [Case("alpha's canned response", {"canned_id": ids["canned_id"]}, agents("alpha"))]

    if access == "translation_message":
        # A's mail on alpha's ticket: alpha's agents (light ones too) may translate it.
        values = {"ticket_id": ids["t1"], "message_id": ids["mail_message_id"]}
        return [Case("a customer's message on alpha", values, agents("alpha"))]

    if access == "automation_translation":
        return [Case("the organization's translation", {}, staff("admin"))]

    if access == "admin_only":
        values = {
            "org_id": ids["org_id"],
            "user_id": ids["org_member_id"],
            "name": ids["sink_name"],
            "group_id": ids["group_id"],
            "brand_id": ids["alpha_id"],
            "address_id": ids["address_id"],
            "mail_id": ids["mail_id"],
            "mailbox_id": ids["mailbox_id"],
            "slug": "alpha",
        }
        query = f"?brand={ids['alpha_id']}"  # the brand of a new group
        return [Case("installation-wide", values, staff("admin"), query=query)]

    if access == "automation_webhooks":
        # Permission "automation": admins hold it on every brand; editors, agents, owner not.
        values = {"target_id": ids["webhook_id"], "delivery_id": ids["webhook_delivery_id"]}
        return [Case("alpha's webhook", values, staff("admin"), query="?brand=alpha")]

    if access == "security_admin":
        values = {"user_id": ids["staff_id"], "role_id": ids["role_id"], "action": "deactivate"}
        return [Case("members and security", values, staff("security"))]
    if access == "brand_permission":
        # Exports (tickets.export) and brand settings (settings): admins hold them on every
        # brand, editors and agents on none (for now: roles per brand will grant them).
        return [
            Case(
                "alpha by its slug",
                {"fmt": "csv"},
                staff("admin"),
                query="?brand=alpha&format=csv",
                data={"brand": "alpha", "days": "400"},
            )
        ]

    if access == "automation_rules":
        values = {"rule_id": ids["automation_rule_id"]}
        return [Case("alpha's rule", values, staff("admin"), query="?brand=alpha")]
    if access == "automation_schedules":
        return [
            Case(
                "alpha's schedule",
                {"schedule_id": ids["schedule_id"]},
                staff("admin"),
                query="?brand=alpha",
                data={"direction": "down", "active": "1"},
            )
        ]

    if access == "automation_notifications":
        data = {"kind": "solved", "enabled": "on", "subject": "Hi", "body": "Hi", "ticket": "0"}
        return [
            Case(
                "alpha's solved notification",
                {"kind": "solved"},
                staff("admin"),
                query="?brand=alpha",
                data={**data, "action": "preview"},
            )
        ]

    raise AssertionError(f"no cases for access class {access!r}")


# -- the walk ----------------------------------------------------------------------------------


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def unclassified(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(ACCESS))


def test_every_route_is_classified(app):
    missing = unclassified(app)
    assert not missing, (
        "Routes without an access class: add each to ACCESS in "
        f"tests/security/test_authz_matrix.py: {', '.join(missing)}"
    )
    stale = sorted(set(ACCESS) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"ACCESS names endpoints that no longer exist: {', '.join(stale)}"


def _order(check):
    rule, method, _case = check
    last = LAST.index(rule.endpoint) if rule.endpoint in LAST else -1
    return (method != "GET", last, rule.rule, method)


def _matches(expect, method: str, response) -> bool:
    if isinstance(expect, tuple):
        return any(_matches(e, method, response) for e in expect)
    status = response.status_code
    to_login = status == 302 and response.headers.get("Location", "").startswith("/login")
    if expect == LOGIN:
        return to_login
    if expect == OK:
        if to_login or status >= 500:
            return False
        return status < 400 if method == "GET" else status not in (403, 404)
    return status == expect


@pytest.fixture
def world(app, ctx, make):
    built = build_world(app, ctx, make)
    yield built
    for path in built.created_files:
        path.unlink(missing_ok=True)
    for folder in reversed(built.created_dirs):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("actor", ACTORS)
def test_access_matrix(app, client, world, actor, htmx):
    if actor != ANON:
        signed_in = client.post(
            "/login", data={"email": world.users[actor].email, "password": PASSWORD}
        )
        assert signed_in.status_code == 303, f"{actor} could not sign in"
    headers = {"HX-Request": "true"} if htmx else {}
    forbidden = {marker for marker, readers in MARKERS.items() if actor not in readers}

    checks, failures, seen = [], [], set()
    for rule, method in routes(app):
        access = ACCESS.get(rule.endpoint)
        if access is None:
            failures.append(f"{rule.endpoint} ({rule.rule}) has no access class in ACCESS")
            continue
        for case in cases(access, rule.endpoint, world):
            if method in case.methods:
                checks.append((rule, method, case))

    for rule, method, case in sorted(checks, key=_order):
        url = rule.build(case.values, append_unknown=False)[1] + case.query
        response = client.open(url, method=method, headers=headers, data=case.data)
        expect = case.expect[actor]
        where = f"{method} {url} [{rule.endpoint}, {case.label}]"
        if response.status_code >= 500 or not _matches(expect, method, response):
            location = response.headers.get("Location", "")
            failures.append(
                f"{where}: expected {expect}, got {response.status_code} {location}".rstrip()
            )
        body = response.get_data()
        response.close()
        for marker in MARKERS:
            if marker.encode() in body:
                seen.add(marker)
                if marker in forbidden - set(case.grants):
                    failures.append(f"{where}: shows {marker!r} to {actor}")
    # The markers must show where they may: else the search above would miss a leak.
    unseen = {m for m, readers in MARKERS.items() if actor in readers} - seen
    if unseen:
        failures.append(f"never shown to {actor}, who may read them: {sorted(unseen)}")

    assert not failures, f"{actor} ({'htmx' if htmx else 'page'}), {len(checks)} requests:\n" + (
        "\n".join(failures)
    )
