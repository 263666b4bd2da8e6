"""The customer notifications' admin pages: switches, wording per language with its checks, the
preview (htmx or a whole page, saving nothing) and the test sent to the member's own address."""

import pytest
from sqlalchemy import func, select

from portal.desk.automation.models import CustomerNotification, NotificationTemplate
from portal.desk.models import OutboxMail
from portal.security.models import AuditEntry

LIST = "/admin/automation/notifications?brand=hanbit"
SWITCH = "/admin/automation/notifications/switch?brand=hanbit"


def editor_url(kind="received", locale="ko"):
    return f"/admin/automation/notifications/{kind}?brand=hanbit&locale={locale}"


@pytest.fixture
def brand(make):
    return make.brand(slug="hanbit", name="Hanbit Pay", locales=("ko", "en", "ja"))


def audit_actions(ctx) -> list[str]:
    ctx.expire_all()
    return list(
        ctx.scalars(
            select(AuditEntry.action).where(AuditEntry.kind == "audit").order_by(AuditEntry.id)
        )
    )


def count(ctx, model) -> int:
    ctx.expire_all()
    return ctx.scalar(select(func.count()).select_from(model))


def test_the_list_shows_each_kind_with_its_default(client, login, brand):
    login("admin")
    html = client.get(LIST).get_data(as_text=True)
    for name in ("Request received", "Agent replied", "Request solved", "Request closed"):
        assert name in html
    assert html.count(">Switch on<") == 3  # reminder, solved, closed
    assert html.count(">Switch off<") == 1  # received; an agent's reply is always sent


def test_switching_on_is_saved_and_audited(client, ctx, login, brand):
    login("admin")
    response = client.post(SWITCH, data={"kind": "solved", "enabled": "on"})
    assert response.status_code == 303
    ctx.expire_all()
    row = ctx.scalar(select(CustomerNotification).where(CustomerNotification.kind == "solved"))
    assert row.enabled is True and row.brand_id == brand.id
    assert audit_actions(ctx) == ["automation.notification_changed"]
    client.post(SWITCH, data={"kind": "solved", "enabled": "on"})  # no change, no entry
    assert audit_actions(ctx) == ["automation.notification_changed"]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "agent_replied", "enabled": "off"},
        {"kind": "nonsense", "enabled": "on"},
        {"kind": "solved", "enabled": "maybe"},
    ],
)
def test_an_agents_reply_cannot_be_switched_off_nor_an_unknown_kind_on(
    client, ctx, login, brand, data
):
    login("admin")
    assert client.post(SWITCH, data=data).status_code == 400
    assert count(ctx, CustomerNotification) == 0


def test_a_wording_is_saved_per_language_and_audited(client, ctx, login, brand):
    login("admin")
    data = {"subject": "문의 #{{ticket_id}} 접수", "body": "{{requester_name}}님", "ticket": "0"}
    response = client.post(editor_url(), data={**data, "action": "save"})
    assert response.status_code == 303
    ctx.expire_all()
    row = ctx.scalar(select(NotificationTemplate))
    assert (row.kind, row.locale, row.subject) == ("received", "ko", "문의 #{{ticket_id}} 접수")
    assert audit_actions(ctx) == ["automation.notification_changed"]
    assert 'value="문의 #{{ticket_id}} 접수"' in client.get(editor_url()).get_data(as_text=True)
    # Both emptied: the built-in text again.
    client.post(editor_url(), data={"subject": "", "body": "", "ticket": "0", "action": "save"})
    assert count(ctx, NotificationTemplate) == 0


def test_unknown_placeholders_are_named_beside_the_field_with_the_values_kept(
    client, ctx, login, brand
):
    login("admin")
    data = {"subject": "Hi {{customer}}", "body": "Text {{ticket_id}}", "action": "save"}
    response = client.post(editor_url(), data={**data, "ticket": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422  # (htmx swaps a 422 in: the errors beside the fields)
    assert "Unknown placeholder: {{customer}}" in html
    assert 'id="subject-error"' in html
    assert 'value="Hi {{customer}}"' in html and "Text {{ticket_id}}" in html
    assert count(ctx, NotificationTemplate) == 0


def test_the_preview_renders_the_unsaved_wording_with_a_recent_ticket(
    client, ctx, make, login, brand
):
    login("admin")
    ticket = make.ticket(brand, subject="Card declined at the shop")
    data = {
        "subject": "About {{ticket_subject}}",
        "body": "Hello {{requester_name}}, see {{ticket_link}}",
        "ticket": str(ticket.id),
        "action": "preview",
    }
    page = client.post(editor_url("solved", "en"), data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert f"About Card declined at the shop [#{ticket.id}]" not in html  # (no token in preview)
    assert "About Card declined at the shop" in html and "Hello Mina, see http" in html
    fragment = client.post(editor_url("solved", "en"), data=data, headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="editor">') and "Hello Mina" in body
    assert count(ctx, NotificationTemplate) == 0 and count(ctx, OutboxMail) == 0


def test_the_preview_of_nothing_configured_is_the_built_in_mail(client, login, brand):
    login("admin")
    data = {"subject": "", "body": "", "ticket": "0", "action": "preview"}
    html = client.post(editor_url("received", "en"), data=data).get_data(as_text=True)
    assert "We received your request #1234" in html


def test_another_brands_ticket_cannot_be_previewed(client, make, login, brand):
    login("admin")
    other = make.brand(slug="other")
    secret = make.ticket(other, subject="Their secret")
    data = {"subject": "{{ticket_subject}}", "body": "x", "ticket": str(secret.id)}
    response = client.post(editor_url(), data={**data, "action": "preview"})
    assert response.status_code == 422
    assert "Their secret" not in response.get_data(as_text=True)


def test_a_test_goes_to_the_members_own_address_through_the_outbox(client, ctx, login, brand):
    user = login("admin", email="lead@example.test")
    data = {"subject": "テスト {{ticket_id}}", "body": "{{requester_name}} 様", "ticket": "0"}
    response = client.post(editor_url("solved", "ja"), data={**data, "action": "test"})
    assert response.status_code == 303
    assert "lead@example.test" in client.get(response.headers["Location"]).get_data(as_text=True)
    ctx.expire_all()
    [mail] = ctx.scalars(select(OutboxMail)).all()
    assert mail.recipient == user.email and mail.subject == "テスト 1234"
    assert f"{user.name} 様" in mail.text_body
    assert count(ctx, NotificationTemplate) == 0


def test_a_language_the_brand_does_not_speak_and_an_unknown_kind_are_404(client, login, brand):
    login("admin")
    assert client.get(editor_url("received", "sv")).status_code == 404
    assert client.get(editor_url("birthday", "ko")).status_code == 404
    assert client.get("/admin/automation/notifications?brand=nope").status_code == 404


def test_editors_and_agents_are_refused(client, login, brand):
    login("editor", brands=[brand])
    assert client.get(LIST).status_code == 403
    assert client.get(editor_url()).status_code == 403
