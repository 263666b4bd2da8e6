"""Schedules and business hours as admins meet them: /admin/automation/schedules (new with
rows added without JavaScript or by htmx, errors beside the rows, edit, move, switch off,
delete, each audited) and /admin/automation/business-hours."""

import pytest
from sqlalchemy import select

from portal.desk.automation.models import BusinessHours, ScheduleRule
from portal.desk.models import AgentGroup
from portal.security.models import AuditEntry


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", locales=("en",))


def audited(ctx):
    ctx.expire_all()
    return [
        e.action
        for e in ctx.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if e.action.startswith("automation.")
    ]


def rows(conditions=(), actions=(), **extra):
    data = {"name": "Solve after 7 days", "active": "y", **extra}
    for i, (kind, value) in enumerate(conditions):
        data[f"conditions-{i}-kind"], data[f"conditions-{i}-value"] = kind, value
    for i, (kind, value) in enumerate(actions):
        data[f"actions-{i}-kind"], data[f"actions-{i}-value"] = kind, value
    return data


SOLVE = rows(
    [("status", "pending"), ("hours_since_agent", "168"), ("", "")],
    [("set_status", "solved"), ("add_note", "Solved by the schedule."), ("", "")],
)


def test_admin_adds_rows_without_javascript_and_with_htmx_keeping_values(client, login, acme):
    login("admin")
    page = client.get("/admin/automation/schedules/new?brand=acme")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('name="conditions-') == 2  # one blank row
    posted = rows([("status", "pending")], [("set_status", "solved")], add="condition")
    page = client.post("/admin/automation/schedules/new?brand=acme", data=posted)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in text
    assert 'name="conditions-1-kind"' in text and 'name="actions-1-kind"' not in text
    assert 'value="pending"' in text and 'value="Solve after 7 days"' in text
    fragment = client.post(
        "/admin/automation/schedules/new?brand=acme",
        data={**posted, "add": "action"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert fragment.strip().startswith('<form id="schedule-form"') and "<html" not in fragment
    assert 'name="actions-1-kind"' in fragment


def test_admin_creates_edits_moves_switches_off_and_deletes_a_schedule(client, login, ctx, acme):
    login("admin")
    response = client.post("/admin/automation/schedules/new?brand=acme", data=SOLVE)
    assert response.status_code == 303
    solve = ctx.scalar(select(ScheduleRule))
    assert solve.conditions == [
        {"field": "status", "value": ["pending"]},
        {"field": "hours_since_agent", "value": 168},
    ]
    assert solve.actions[1] == {"action": "add_note", "value": "Solved by the schedule."}
    close = rows([("status", "solved"), ("hours_since_status", "96")], [("set_status", "closed")])
    client.post("/admin/automation/schedules/new?brand=acme", data={**close, "name": "Close"})
    close = ctx.scalar(select(ScheduleRule).where(ScheduleRule.name == "Close"))
    page = client.get("/admin/automation/schedules").get_data(as_text=True)
    assert page.index(f'id="schedule-{solve.id}"') < page.index(f'id="schedule-{close.id}"')

    edit = client.get(f"/admin/automation/schedules/{solve.id}").get_data(as_text=True)
    assert 'value="168"' in edit and "Solved by the schedule." in edit
    changed = {**SOLVE, "conditions-1-value": "170"}
    assert client.post(f"/admin/automation/schedules/{solve.id}", data=changed).status_code == 303
    client.post(f"/admin/automation/schedules/{solve.id}/move", data={"direction": "down"})
    page = client.get("/admin/automation/schedules").get_data(as_text=True)
    assert page.index(f'id="schedule-{close.id}"') < page.index(f'id="schedule-{solve.id}"')
    client.post(f"/admin/automation/schedules/{solve.id}/active", data={"active": "0"})
    ctx.expire_all()
    solve = ctx.get(ScheduleRule, solve.id)
    assert (solve.active, solve.conditions[1]["value"]) == (False, 170)
    confirm = client.get(f"/admin/automation/schedules/{solve.id}/delete")
    assert "Delete the schedule" in confirm.get_data(as_text=True)
    assert client.post(f"/admin/automation/schedules/{solve.id}/delete").status_code == 303
    assert ctx.scalar(select(ScheduleRule.name)) == "Close"
    assert audited(ctx) == [
        "automation.schedule_created",
        "automation.schedule_created",
        "automation.schedule_changed",
        "automation.schedule_changed",
        "automation.schedule_changed",
        "automation.schedule_deleted",
    ]


def test_errors_are_said_beside_their_rows_and_values_kept(client, login, ctx, acme):
    login("admin")
    ctx.add(AgentGroup(brand_id=acme.id, name="Billing"))
    ctx.commit()
    bad = rows(
        [("status", "waiting"), ("hours_since_created", "soon")],
        [("assign_group", "Nobody")],
        name="",
    )
    response = client.post("/admin/automation/schedules/new?brand=acme", data=bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="name-error">Give the schedule a name.' in text
    assert 'id="conditions-0-value-error">Type one or more of: new, open' in text
    assert 'id="conditions-1-value-error">Give a whole number of hours' in text
    assert 'id="actions-0-value-error">Type the name of one of this brand' in text
    assert 'value="waiting"' in text and 'value="Nobody"' in text
    assert "Groups: Billing." in text
    assert ctx.scalar(select(ScheduleRule)) is None


def test_business_hours_are_shown_as_text_validated_and_saved(client, login, ctx, acme):
    login("admin")
    page = client.get("/admin/automation/business-hours?brand=acme").get_data(as_text=True)
    assert "mon 09:00-18:00" in page and "Asia/Seoul" in page
    response = client.post(
        "/admin/automation/business-hours?brand=acme",
        data={"week": "mon 09:00-12:00\ntue 18:00-09:00", "holidays": ""},
    )
    assert response.status_code == 400
    assert "“18:00-09:00” ends before it starts." in response.get_data(as_text=True)
    response = client.post(
        "/admin/automation/business-hours?brand=acme",
        data={
            "week": "mon 09:00-12:00, 13:00-18:00\nsat 10:00-14:00",
            "holidays": "2026-12-25\nxmas",
        },
    )
    assert "“xmas” is not a date" in response.get_data(as_text=True)
    response = client.post(
        "/admin/automation/business-hours?brand=acme",
        data={"week": "mon 09:00-12:00, 13:00-18:00\nsat 10:00-14:00", "holidays": "2026-12-25"},
    )
    assert response.status_code == 303
    row = ctx.get(BusinessHours, acme.id)
    assert row.week["0"] == [["09:00", "12:00"], ["13:00", "18:00"]] and row.week["1"] == []
    assert row.holidays == ["2026-12-25"]
    assert audited(ctx) == ["automation.business_hours_changed"]


@pytest.mark.parametrize("role", ["editor", "agent", "owner"])
def test_only_holders_of_automation_see_the_pages(client, login, acme, role):
    login(role, brands=(acme,))
    assert client.get("/admin/automation/schedules").status_code == 403
    assert client.get("/admin/automation/business-hours?brand=acme").status_code == 403
