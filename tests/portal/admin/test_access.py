"""Every /admin route: who may use it, and an editor of one brand never reaches another's."""

import pytest
from sqlalchemy import select

from kb.models import Revision, Translation
from portal.desk import assignment, forms, orgs


@pytest.fixture
def world(make, ctx):
    mine = make.brand(slug="mine", locales=("en",), name="Mine")
    theirs = make.brand(slug="theirs", locales=("en",), name="Theirs")
    category = make.category(theirs, {"en": "Their category"})
    section = make.section(category, {"en": "Their section"})
    article = make.article(section, {"en": "Their secret draft"}, status="draft")
    t = ctx.scalar(select(Translation).where(Translation.article_id == article.id))
    revision = Revision(
        translation_id=t.id,
        version=1,
        title=t.title,
        slug=t.slug,
        body_md=t.body_md,
        status=t.status,
    )
    ctx.add(revision)
    ctx.commit()
    form = forms.create_form(ctx, theirs, {"en": "Their secret form"}, {})
    field = forms.add_field(ctx, form, key="secret", type="text", labels={"en": "Their field"})
    org = orgs.create_organization(ctx, "Their company", "their.example", True)
    member = make.user(role="customer")
    orgs.add_member(ctx, org, member.email)
    return {
        "mine": mine,
        "theirs": theirs,
        "article_id": article.id,
        "category_id": category.id,
        "section_id": section.id,
        "revision_id": revision.id,
        "locale": "en",
        "att_id": 1,
        "name": "20261125T120000000000Z-0a1b2c3d.eml",  # a mail-sink file name
        "form_id": form.id,
        "field_id": field.id,
        "org_id": org.id,
        "user_id": member.id,
        "group_id": assignment.save_group(ctx, None, theirs.id, "Their group", []).id,
        "brand_id": theirs.id,
        # (mail settings are admins' alone: any id answers 302 to login, or 403, before lookup)
        "address_id": 1,
        "mail_id": 1,
        "schedule_id": 1,  # (the schedule bot's pages: "automation", before any lookup)
        "mailbox_id": 1,
        "target_id": 1,  # webhooks ("automation": editors have none; 403 before lookup)
        "delivery_id": 1,
        "role_id": 1,
        "rule_id": 1,
        "action": "deactivate",
        "fmt": "csv",  # the ticket export's download
        "slug": theirs.slug,
        "kind": "solved",  # a customer notification's kind
    }


def admin_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def url_for_rule(rule, world):
    values = {arg: world[arg] for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_admin_route_sends_anonymous_visitors_to_login(app, client, world):
    for rule, method in admin_routes(app):
        response = client.open(url_for_rule(rule, world), method=method)
        assert response.status_code == 302, (rule.rule, method)
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_every_admin_route_is_403_for_agents_and_customers(app, client, login, world, role):
    login(role, brands=[world["theirs"]] if role == "agent" else ())
    for rule, method in admin_routes(app):
        response = client.open(
            url_for_rule(rule, world), method=method, headers={"HX-Request": "true"}
        )
        assert response.status_code == 403, (rule.rule, method)


# Installation-wide pages: admins only, 403 for editors of any brand.
ADMIN_ONLY = (
    "admin.mail_index",
    "admin.mail_message",
    "admin.organizations",
    "admin.organization_new",
    "admin.organization_edit",
    "admin.organization_member_add",
    "admin.organization_member_remove",
    "admin.organization_delete",
    "admin.groups",
    "admin.group_new",
    "admin.group_edit",
    "admin.group_delete",
    "admin.routing_save",
    "admin.mail_addresses",
    "admin.mail_address_new",
    "admin.mail_address_edit",
    "admin.mail_address_remove",
    "admin.mail_in",
    "admin.mail_in_retry",
    "admin.mail_in_raw",
    "admin.mailboxes",
    "admin.mailbox_new",
    "admin.mailbox_edit",
    "admin.mailbox_check",
    "admin.mailbox_delete",
    "admin.audit_log",
    "admin.audit_csv",
    "admin.security_settings",
    "admin.members_list",
    "admin.member_invite",
    "admin.member_edit",
    "admin.member_action",
    "admin.member_resend",
    "admin.roles_list",
    "admin.role_new",
    "admin.role_edit",
    "admin.role_delete",
    "admin.security_allowlist",
    "admin.tenant_settings",
    "admin.tenant_api_key",
    "admin.export_page",
    "admin.export_download",
    "admin.retention_settings",
    "admin.brand_settings",
    "admin.brand_theme",
    "admin.brand_mail_template",
    "admin.backoffice_branding",
    "admin.automation_rules",
    "admin.automation_rule_new",
    "admin.automation_rule_edit",
    "admin.automation_rule_active",
    "admin.automation_rule_move",
    "admin.automation_rule_delete",
    "admin.translation_settings",
    "admin.translation_test",
    "admin.automation_webhooks",
    "admin.automation_webhook_new",
    "admin.automation_webhook_edit",
    "admin.automation_webhook_delete",
    "admin.automation_webhook_test",
    "admin.automation_webhook_rotate",
    "admin.automation_webhook_log",
    "admin.automation_webhook_retry",
    # The schedule bot: "automation", which editors do not hold.
    "admin.automation_schedules",
    "admin.automation_schedule_new",
    "admin.automation_schedule_edit",
    "admin.automation_schedule_delete",
    "admin.automation_schedule_move",
    "admin.automation_schedule_active",
    "admin.automation_business_hours",
    "admin.automation_notifications",
    "admin.automation_notification_switch",
    "admin.automation_notification",
)


def test_editor_of_another_brand_never_sees_or_changes_its_content(app, client, ctx, login, world):
    login("editor", brands=[world["mine"]])
    for rule, method in admin_routes(app):
        url = url_for_rule(rule, world)
        if rule.endpoint in ADMIN_ONLY:
            assert client.open(url, method=method).status_code == 403, rule.rule
            continue
        if "<" not in rule.rule:
            # Lists: reachable, but without the other brand's content.
            response = client.open(url + "?brand=theirs", method=method)
            if method == "GET":
                assert response.status_code in (200, 302, 404), (rule.rule, method)
                assert "Their secret draft" not in response.get_data(as_text=True), rule.rule
                assert "Their category" not in response.get_data(as_text=True), rule.rule
                assert "Their secret form" not in response.get_data(as_text=True), rule.rule
            continue
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(
                url,
                method=method,
                headers=headers,
                data={
                    "title_en": "Hijacked",
                    "title": "Hijacked",
                    "body_md": "x",
                    "section_id": world["section_id"],
                },
            )
            assert response.status_code == 404, (rule.rule, method, response.status_code)
    ctx.expire_all()
    t = ctx.scalar(select(Translation).where(Translation.article_id == world["article_id"]))
    assert t.title == "Their secret draft" and t.version == 1


def test_editor_cannot_create_in_another_brand(client, ctx, login, world):
    login("editor", brands=[world["mine"]])
    response = client.post(
        "/admin/kb/articles/new?brand=theirs&locale=en",
        data={
            "title": "x",
            "section_id": world["section_id"],
            "kind": "guide",
            "status": "draft",
            "body_md": "x",
        },
    )
    assert response.status_code == 404
    response = client.post(
        "/admin/kb/structure/categories", data={"brand": "theirs", "title_en": "Hijack"}
    )
    assert response.status_code == 404


def test_editor_cannot_file_an_article_under_another_brands_section(
    client, ctx, login, world, make
):
    login("editor", brands=[world["mine"]])
    response = client.post(
        "/admin/kb/articles/new?brand=mine&locale=en",
        data={
            "title": "Sneaky",
            "section_id": world["section_id"],
            "kind": "guide",
            "status": "draft",
            "body_md": "x",
        },
    )
    assert response.status_code == 400
    assert "Choose a section of this brand." in response.get_data(as_text=True)


def test_admin_sees_every_brand(client, login, world):
    login("admin")
    listing = client.get("/admin/kb/").get_data(as_text=True)
    assert "Their secret draft" in listing


@pytest.mark.parametrize("article_id", ["99999999999999999999999", "2147483648", "0"])
def test_huge_article_ids_in_admin_are_404(client, login, world, article_id):
    login("admin")
    assert client.get(f"/admin/kb/articles/{article_id}/en").status_code == 404
