"""The rule bot's admin pages: list per brand, create with errors beside the rows and values
kept, "Add a condition" without JavaScript and as an htmx fragment, try it, switch, reorder,
delete, the audit log."""

import re

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk.automation import rules
from portal.desk.automation.models import AutomationRule
from portal.desk.models import Ticket
from portal.security.models import AuditEntry


@pytest.fixture
def brand(make):
    return make.brand(slug="hanbit", locales=("en", "ko"), name="Hanbit Pay")


@pytest.fixture
def admin(login, brand):
    return login("admin")


def rule(ctx, brand, name, active=True):
    made = rules.save_rule(
        ctx,
        None,
        brand,
        None,
        rules.Draft(
            name=name,
            active=active,
            events=["ticket_created"],
            actions=[("set_priority", "high", "")],
        ),
        now=clock.now(),
    )
    ctx.commit()
    return made


def posted(**extra):
    data = {
        "name": "Refunds",
        "events": ["ticket_created"],
        "match": "any",
        "conditions-0-kind": "text_contains",
        "conditions-0-value": "환불",
        "conditions-1-kind": "priority_is",
        "conditions-1-value": "huge",
        "actions-0-type": "set_priority",
        "actions-0-value": "high",
        "actions-0-body": "",
        "step": "save",
    }
    data.update(extra)
    return data


def test_the_list_shows_the_brands_rules_in_order(client, ctx, brand, admin):
    rule(ctx, brand, "First")
    rule(ctx, brand, "Second", active=False)
    page = client.get("/admin/automation/rules?brand=hanbit").get_data(as_text=True)
    assert page.index("First") < page.index("Second")
    assert "New rule" in page
    assert client.get("/admin/automation/rules?brand=nope").status_code == 404


def test_a_bad_row_comes_back_with_its_message_and_every_value_kept(client, ctx, brand, admin):
    response = client.post("/admin/automation/rules/new?brand=hanbit", data=posted())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Write low, normal, high or urgent." in page
    assert 'id="conditions-1-error"' in page
    assert 'value="환불"' in page and 'value="huge"' in page and 'value="Refunds"' in page
    assert ctx.scalar(select(AutomationRule)) is None


def test_a_rule_is_created_and_audited(client, ctx, brand, admin):
    data = posted(**{"conditions-1-kind": "", "conditions-1-value": "", "active": "y"})
    response = client.post("/admin/automation/rules/new?brand=hanbit", data=data)
    assert response.status_code == 303
    made = ctx.scalar(select(AutomationRule))
    assert made.name == "Refunds" and made.active and made.match == "any"
    assert made.conditions == [{"field": "text", "op": "contains", "value": "환불"}]
    assert made.actions == [{"type": "set_priority", "value": "high"}]
    entry = ctx.scalar(select(AuditEntry).where(AuditEntry.action == "automation.rule_created"))
    assert entry.actor_id == admin.id
    page = client.get(f"/admin/automation/rules/{made.id}").get_data(as_text=True)
    assert 'value="환불"' in page and 'value="high"' in page


def test_add_a_condition_without_javascript_keeps_values_and_adds_a_row(client, ctx, brand, admin):
    data = posted(step="add_condition")
    response = client.post("/admin/automation/rules/new?brand=hanbit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in page.lower()
    assert 'value="환불"' in page and 'name="conditions-2-kind"' in page
    assert 'name="conditions-3-kind"' not in page  # one more row, no more
    assert ctx.scalar(select(AutomationRule)) is None


def test_add_a_condition_with_htmx_answers_the_editor_only(client, brand, admin):
    response = client.post(
        "/admin/automation/rules/new?brand=hanbit",
        data=posted(step="add_condition"),
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in page.lower() and page.lstrip().startswith('<div id="rule-editor">')
    assert 'name="conditions-2-kind"' in page and 'value="환불"' in page


def test_try_it_counts_without_saving_or_changing(client, ctx, make, brand, admin):
    make.ticket(brand, subject="환불요청")
    make.ticket(brand, subject="Other")
    data = posted(step="try", **{"conditions-1-kind": ""})
    page = client.post("/admin/automation/rules/new?brand=hanbit", data=data).get_data(as_text=True)
    assert "Would have matched 1 ticket" in page
    ticket = ctx.scalar(select(Ticket).where(Ticket.subject == "환불요청"))
    assert f"/agent/tickets/{ticket.id}" in page
    ctx.expire_all()
    assert ticket.priority == "normal"
    assert ctx.scalar(select(AutomationRule)) is None


def test_switch_move_and_delete(client, ctx, brand, admin):
    first, second = rule(ctx, brand, "First"), rule(ctx, brand, "Second")
    client.post(f"/admin/automation/rules/{first.id}/active", data={"active": "0"})
    client.post(f"/admin/automation/rules/{second.id}/move", data={"direction": "up"})
    ctx.expire_all()
    assert not first.active
    assert [r.name for r in rules.rules_of_brand(ctx, brand.id)] == ["Second", "First"]
    confirm = client.get(f"/admin/automation/rules/{first.id}/delete")
    assert "Delete the rule “First”?" in confirm.get_data(as_text=True)
    assert client.post(f"/admin/automation/rules/{first.id}/delete").status_code == 303
    ctx.expire_all()
    assert [r.name for r in rules.rules_of_brand(ctx, brand.id)] == ["Second"]
    actions = set(ctx.scalars(select(AuditEntry.action)))
    assert {
        "automation.rule_changed",
        "automation.rule_reordered",
        "automation.rule_deleted",
    } <= actions


def test_agents_and_editors_may_not(client, ctx, make, brand, login):
    made = rule(ctx, brand, "First")
    login("agent", brands=[brand])
    assert client.get("/admin/automation/rules?brand=hanbit").status_code == 403
    assert client.post(f"/admin/automation/rules/{made.id}/delete").status_code == 403
    ctx.expire_all()
    assert ctx.get(AutomationRule, made.id) is not None


def test_the_editor_says_there_are_no_webhooks_yet(client, brand, admin):
    page = client.get("/admin/automation/rules/new?brand=hanbit").get_data(as_text=True)
    assert "No webhooks yet." in page
    assert re.search(r'name="conditions-0-kind"', page)
