"""Members and roles: /admin/members (invite, set password, sign in; roles per brand;
deactivate, reactivate, remove; the last organization admin) and /admin/roles (custom roles)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from kb.people import BrandMember, Role, User
from portal.desk.models import LoginSession
from portal.mail import outbox
from portal.mail.sink import sink_message, sink_messages
from portal.security import roles
from portal.security.models import AuditEntry
from tests.conftest import PASSWORD


@pytest.fixture
def brands(make):
    return make.brand("acme"), make.brand("globex")


def actions(ctx, name):
    ctx.expire_all()
    return list(ctx.scalars(select(AuditEntry).where(AuditEntry.action == name)))


def role_id(ctx, key):
    return str(roles.builtin(ctx, key).id)


def invite(client, ctx, brands, **fields):
    acme, globex = brands
    data = {
        "name": "Nina New",
        "email": "nina@example.test",
        "login_id": "nina",
        f"brand_{acme.id}": role_id(ctx, "agent"),
        f"brand_{globex.id}": role_id(ctx, "editor"),
        **fields,
    }
    ctx.commit()
    return client.post("/admin/members/invite", data=data)


def delivered(sink) -> list:
    """The mails the sink holds, oldest first."""
    return [sink_message(sink, m.name) for m in reversed(sink_messages(sink))]


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://\S+/account/invitation/\S+", body).group(0)


def test_invite_mail_set_password_and_sign_in_with_the_roles_per_brand(
    app, client, ctx, engine, login, brands, sink, sink_server
):
    owner = login("owner")
    response = invite(client, ctx, brands)
    assert response.status_code == 303
    page = client.get("/admin/members").get_data(as_text=True)
    assert "Nina New" in page and "Invited" in page
    assert "Agent on acme" in page.replace("Acme", "acme") or "Agent on" in page

    assert outbox.send_due(engine, sink_server, clock.now())["sent"] == 1
    (mail,) = delivered(sink)
    assert mail["To"].addresses[0].addr_spec == "nina@example.test"
    assert "invited" in mail["Subject"]
    link = link_in(mail)
    assert f"{owner.name} invited you" in mail.get_body(("plain",)).get_content()

    client.post("/logout")
    path = link.split("localhost", 1)[-1]
    assert "Choose your password" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/agent/"
    nina = ctx.scalar(select(User).where(User.email == "nina@example.test"))
    ctx.refresh(nina)
    assert nina.invited_at is None and nina.email_confirmed_at is not None
    # Agent on acme, editor on globex: tickets of acme only, articles of globex only.
    acme, globex = brands
    assert roles.grants(ctx, nina) == {
        acme.id: frozenset(roles.BUILTIN_ROLES["agent"]),
        globex.id: frozenset(roles.BUILTIN_ROLES["editor"]),
    }
    assert client.get(path).status_code == 410  # the link works once
    client.post("/logout")
    # The login ID signs in too.
    response = client.post("/login", data={"email": "nina", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/agent/"
    assert [e.target for e in actions(ctx, "member.invited")] == [f"user:{nina.id}"]
    assert [e.actor_id for e in actions(ctx, "member.joined")] == [nina.id]


def test_a_resent_invitation_replaces_the_old_link_and_links_expire_after_72_hours(
    client, ctx, engine, login, brands, sink, sink_server, frozen_now
):
    login("owner")
    invite(client, ctx, brands)
    nina = ctx.scalar(select(User).where(User.email == "nina@example.test"))
    assert client.post(f"/admin/members/{nina.id}/resend").status_code == 303
    outbox.send_due(engine, sink_server, clock.now())
    first, second = (link_in(m).split("localhost", 1)[-1] for m in delivered(sink))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    clock.freeze(frozen_now + timedelta(hours=72, minutes=1))
    assert client.get(second).status_code == 410
    assert len(actions(ctx, "member.invitation_resent")) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "Give the member&#39;s name."),
        ({"email": "not an address"}, "Give a valid email address."),
        ({"login_id": "Bad ID!"}, "A login ID is 2 to 63"),
        ({"every_brand": "999999"}, "Choose one of the listed roles."),
    ],
)
def test_a_bad_invitation_is_refused_and_what_was_typed_is_kept(
    client, ctx, login, brands, fields, message
):
    login("owner")
    response = invite(client, ctx, brands, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="Nina New"' in page or fields.get("name") == " "
    assert ctx.scalar(select(User).where(User.email == "nina@example.test")) is None


def test_an_address_with_an_account_cannot_be_invited(client, ctx, login, brands, make):
    login("owner")
    make.user(role="customer", email="nina@example.test")
    response = invite(client, ctx, brands)
    assert response.status_code == 400
    assert "An account with this address exists already." in response.get_data(as_text=True)


def test_deactivate_ends_the_sessions_at_once_and_reactivate(app, client, ctx, login, brands):
    acme, _globex = brands
    other = app.test_client()
    agent = login("agent", brands=[acme])  # signs in on `client`
    other.post("/login", data={"email": agent.email, "password": PASSWORD})
    assert other.get("/agent/").status_code == 200
    client.post("/logout")
    login("owner")
    assert client.post(f"/admin/members/{agent.id}/deactivate").status_code == 303
    assert other.get("/agent/").status_code == 302  # signed out
    ctx.expire_all()
    assert ctx.scalar(select(LoginSession).where(LoginSession.user_id == agent.id)) is None
    assert "Deactivated" in client.get("/admin/members").get_data(as_text=True)
    response = other.post("/login", data={"email": agent.email, "password": PASSWORD})
    assert response.status_code != 303
    assert client.post(f"/admin/members/{agent.id}/reactivate").status_code == 303
    response = other.post("/login", data={"email": agent.email, "password": PASSWORD})
    assert response.status_code == 303
    assert [len(actions(ctx, a)) for a in ("member.deactivated", "member.reactivated")] == [1, 1]


def test_the_last_organization_admin_cannot_leave_nor_be_demoted(client, ctx, login, brands):
    owner = login("owner")
    response = client.post(f"/admin/members/{owner.id}", data={"name": owner.name})
    assert response.status_code == 400
    assert "at least one active organization admin" in response.get_data(as_text=True)
    response = client.post(f"/admin/members/{owner.id}/remove")
    assert response.status_code == 409
    ctx.refresh(owner)
    assert owner.org_admin and owner.active
    assert client.post(f"/admin/members/{owner.id}/deactivate").status_code == 409


def test_with_a_second_organization_admin_one_can_step_down(client, ctx, login, make, brands):
    owner = login("owner")
    make.user(role="owner", email="second@example.test")
    response = client.post(
        f"/admin/members/{owner.id}",
        data={"name": owner.name, "every_brand": role_id(ctx, "agent")},
    )
    assert response.status_code == 303
    ctx.refresh(owner)
    assert not owner.org_admin and owner.every_brand_role_id is not None
    (entry,) = actions(ctx, "member.org_admin_revoked")
    assert entry.details["before"]["org_admin"] is True
    assert client.get("/admin/members").status_code == 403  # no longer holds "members"


def test_a_members_manager_who_is_not_org_admin_cannot_make_org_admins(
    client, ctx, login, make, brands
):
    acme, _globex = brands
    manager_role = roles.create_role(ctx, "People", ["members"], actor=None, now=clock.now())
    manager = make.user(
        role="agent", brands=[acme], email="manager@example.test", password=PASSWORD
    )
    ctx.add(BrandMember(user_id=manager.id, brand_id=_globex.id, role_id=manager_role.id))
    ctx.commit()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    response = invite(client, ctx, brands, org_admin="y")
    assert response.status_code == 400
    assert "Only organization admins" in response.get_data(as_text=True)
    assert invite(client, ctx, brands).status_code == 303


def test_custom_roles_are_made_changed_and_deleted_only_when_unused(client, ctx, login, make):
    login("owner")
    response = client.post(
        "/admin/roles/new", data={"name": "Triage", "permissions": ["tickets.view", "tickets.note"]}
    )
    assert response.status_code == 303
    role = ctx.scalar(select(Role).where(Role.name == "Triage"))
    assert role.permissions == ["tickets.view", "tickets.note"]
    assert "Tickets: internal notes" in client.get("/admin/roles").get_data(as_text=True)
    response = client.post("/admin/roles/new", data={"name": "triage", "permissions": ["forms"]})
    assert response.status_code == 400 and "Another role has this name." in response.get_data(
        as_text=True
    )
    response = client.post("/admin/roles/new", data={"name": "Empty"})
    assert "Choose at least one permission." in response.get_data(as_text=True)
    response = client.post(
        f"/admin/roles/{role.id}", data={"name": "Triage", "permissions": ["tickets.bogus"]}
    )
    assert response.status_code == 400
    holder = make.user(role="customer", email="holder@example.test")
    holder.role, holder.every_brand_role_id = "staff", role.id
    ctx.commit()
    response = client.post(f"/admin/roles/{role.id}/delete")
    assert response.status_code == 409
    assert "Members hold this role" in response.get_data(as_text=True)
    holder.every_brand_role_id = None
    ctx.commit()
    deleted = role.id
    assert client.post(f"/admin/roles/{deleted}/delete").status_code == 303
    ctx.expire_all()
    assert ctx.get(Role, deleted) is None
    assert [len(actions(ctx, a)) for a in ("role.created", "role.deleted")] == [1, 1]
    builtin = roles.builtin(ctx, "agent")
    ctx.commit()
    assert client.get(f"/admin/roles/{builtin.id}").status_code == 404


def test_an_org_admin_without_a_working_role_sees_no_tickets_nor_content(client, login):
    login("owner")
    assert client.get("/admin/members").status_code == 200
    assert client.get("/admin/audit").status_code == 200
    assert client.get("/agent/").status_code == 403
    assert client.get("/admin/kb/").status_code == 403
    assert client.get("/admin/").headers["Location"] == "/admin/members"


def test_a_light_agent_writes_notes_but_no_public_reply(client, ctx, login, make, brands):
    acme, _globex = brands
    login("light_agent", brands=[acme])
    ticket = make.ticket(acme)
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Public reply (mailed to the requester)" not in page
    assert "Your role reads these properties; it does not change them." in page
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply", data={"body": "Hello", "kind": "public"}
    )
    assert response.status_code == 422
    assert "Your role writes internal notes only" in response.get_data(as_text=True)
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply", data={"body": "Looked at it", "kind": "internal"}
    )
    assert response.status_code == 303
    response = client.post(f"/agent/tickets/{ticket.id}/properties", data={"priority": "high"})
    assert response.status_code == 422
