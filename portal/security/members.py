"""Members of the organization: invite (a set-password link valid 72 hours, re-sendable),
accept, change roles, deactivate, reactivate, remove.

One function per action, each recording its audit entry in the caller's transaction; the caller
commits. The organization never loses its last active organization admin, and only
organization admins make or unmake organization admins.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.people import BrandMember, Role, User
from portal.desk import accounts
from portal.desk.tickets import valid_email
from portal.security import audit, roles
from portal.security.roles import RoleError

INVITATION_HOURS = 72
LOGIN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MAX_NAME = 200

STATES = ("active", "invited", "deactivated")


def state(user: User) -> str:
    if not user.active:
        return "deactivated"
    if user.invited_at is not None:
        return "invited"
    return "active"


@dataclass
class MemberInput:
    """What the invite and edit forms give: the roles as roles.set_membership takes them."""

    name: str
    email: str
    login_id: str
    org_admin: bool
    every_brand: Role | None
    per_brand: dict[int, Role | None]


def _target(user: User) -> dict:
    return {"target": f"user:{user.id}", "target_name": f"{user.name} <{user.email}>"}


def _check(session: Session, data: MemberInput, user: User | None) -> tuple[str, str, str]:
    """(name, email, login id) cleaned; RoleError naming the first problem."""
    name = " ".join((data.name or "").split())
    if not name:
        raise RoleError("member_name_missing")
    if len(name) > MAX_NAME:
        raise RoleError("member_name_long")
    email = accounts.normalize_email(data.email or "")
    if user is None:
        if not valid_email(email):
            raise RoleError("member_email_invalid")
        if accounts.user_by_email(session, email) is not None:
            raise RoleError("member_email_taken")
    login_id = (data.login_id or "").strip().lower()
    if login_id:
        if not LOGIN_ID.match(login_id):
            raise RoleError("member_login_id_invalid")
        taken = session.scalar(
            select(User.id).where(User.login_id == login_id, User.id != (user.id if user else 0))
        )
        if taken is not None:
            raise RoleError("member_login_id_taken")
    if not (data.org_admin or data.every_brand or any(data.per_brand.values())):
        raise RoleError("member_no_role")
    return name, email, login_id or None


def _set_roles(session: Session, user: User, data: MemberInput, **change) -> bool:
    return roles.set_membership(
        session,
        user,
        org_admin=data.org_admin,
        every_brand=data.every_brand,
        per_brand=data.per_brand,
        **change,
    )


def _guard_org_admin(actor: User, user: User | None, org_admin: bool) -> None:
    """Making, unmaking or changing an organization admin is for organization admins."""
    if (org_admin or (user is not None and user.org_admin)) and not actor.org_admin:
        raise RoleError("org_admin_only")


def invite(
    session: Session, data: MemberInput, *, actor: User, now: datetime, ip: str = ""
) -> tuple[User, str]:
    """A new member, "invited" until they set a password through the link; returns the user
    and the link's token (the caller mails it)."""
    _guard_org_admin(actor, None, data.org_admin)
    name, email, login_id = _check(session, data, None)
    user = User(
        email=email,
        name=name,
        role="staff",
        login_id=login_id,
        organization_id=actor.organization_id,
        password_hash=None,
        email_confirmed_at=None,
        invited_at=now,
        created_at=now,
    )
    session.add(user)
    session.flush()
    _set_roles(session, user, data, actor=actor, now=now, ip=ip, record=False)
    audit.record(
        session,
        "member.invited",
        now=now,
        actor=actor,
        ip=ip,
        details={"roles": roles.describe(session, roles.membership(session, user))},
        **_target(user),
    )
    token = accounts.issue_token(session, user, "invite", now=now, hours=INVITATION_HOURS)
    return user, token


def resend_invitation(session: Session, user: User, *, actor: User, now: datetime, ip: str = ""):
    """A new link for a member still invited; the old links stop working."""
    if state(user) != "invited":
        raise RoleError("member_not_invited")
    accounts.revoke_tokens(session, user, ("invite",), now)
    audit.record(session, "member.invitation_resent", now=now, actor=actor, ip=ip, **_target(user))
    return accounts.issue_token(session, user, "invite", now=now, hours=INVITATION_HOURS)


def accept_invitation(
    session: Session, check: accounts.TokenCheck, password: str, *, now: datetime, ip: str = ""
) -> User | None:
    """The invited member sets a password: active from now (the link came by mail, so the
    address is confirmed). None when the link was used meanwhile."""
    user = accounts.reset_password(session, check, password, now)
    if user is None:
        return None
    user.invited_at = None
    audit.record(session, "member.joined", now=now, actor=user, ip=ip, **_target(user))
    return user


def change(
    session: Session, user: User, data: MemberInput, *, actor: User, now: datetime, ip: str = ""
) -> bool:
    """Name, login ID and roles of a member; True when something changed."""
    _guard_org_admin(actor, user, data.org_admin)
    if not data.org_admin and _leaves_no_org_admin(session, user):
        raise RoleError("last_org_admin")
    name, _email, login_id = _check(session, data, user)
    changed = (user.name, user.login_id) != (name, login_id)
    if changed:
        audit.record(
            session,
            "member.changed",
            now=now,
            actor=actor,
            ip=ip,
            details={
                "before": {"name": user.name, "login_id": user.login_id},
                "after": {"name": name, "login_id": login_id},
            },
            **_target(user),
        )
        user.name, user.login_id = name, login_id
    return _set_roles(session, user, data, actor=actor, now=now, ip=ip) or changed


def _leaves_no_org_admin(session: Session, user: User) -> bool:
    return user.org_admin and user.active and roles.active_org_admins(session) <= 1


def deactivate(session: Session, user: User, *, actor: User, now: datetime, ip: str = "") -> None:
    """Signs the member out everywhere at once; history kept; no longer assignable."""
    if user.id == actor.id:
        raise RoleError("member_self")
    _guard_org_admin(actor, user, False)
    if _leaves_no_org_admin(session, user):
        raise RoleError("last_org_admin")
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    accounts.end_all_login_sessions(session, user)
    accounts.revoke_tokens(session, user, ("invite", "reset"), now)
    audit.record(session, "member.deactivated", now=now, actor=actor, ip=ip, **_target(user))


def reactivate(session: Session, user: User, *, actor: User, now: datetime, ip: str = "") -> None:
    _guard_org_admin(actor, user, False)
    user.active = True
    audit.record(session, "member.reactivated", now=now, actor=actor, ip=ip, **_target(user))


def remove(session: Session, user: User, *, actor: User, now: datetime, ip: str = "") -> None:
    """Out of the organization: every role taken away and the account deactivated (their
    tickets, replies and articles keep their name)."""
    _guard_org_admin(actor, user, False)
    if _leaves_no_org_admin(session, user):
        raise RoleError("last_org_admin")
    before = roles.describe(session, roles.membership(session, user))
    user.org_admin = False
    user.every_brand_role_id = None
    session.execute(BrandMember.__table__.delete().where(BrandMember.user_id == user.id))
    if user.active:
        user.active = False
        user.session_version = (user.session_version or 1) + 1
        accounts.end_all_login_sessions(session, user)
    accounts.revoke_tokens(session, user, ("invite", "reset"), now)
    audit.record(
        session,
        "member.removed",
        now=now,
        actor=actor,
        ip=ip,
        details={"before": before},
        **_target(user),
    )


def listing(session: Session) -> list[User]:
    """Every member (staff account), by name; removed members show as deactivated."""
    return list(
        session.scalars(
            select(User).where(User.role == "staff").order_by(func.lower(User.name), User.id)
        )
    )
