"""Roles and permissions: what a member may do, per brand.

Every guard in `portal.access` asks for a permission from PERMISSIONS on a brand, never for a
role's name. A role is a named set of permissions; a member holds one role per brand
(BrandMember.role_id), or one role on every brand, present and future (User.every_brand_role_id).
Organization admins (User.org_admin) manage members and security; unless they also hold a
working role they see no tickets or content.

Changes record audit entries in the caller's transaction; the caller commits.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import BrandMember, Role, User, roles_with
from portal.security import audit

# The documented list (README "Roles and permissions"), in the order the role form shows it.
TICKET_PERMISSIONS = (
    "tickets.view",
    "tickets.reply",
    "tickets.note",
    "tickets.assign",
    "tickets.delete",
    "tickets.export",
    "tickets.block",
)
CUSTOMER_PERMISSIONS = ("customers.view", "customers.edit")
KB_PERMISSIONS = ("kb.write", "kb.publish")
# "settings" is brand configuration: mail addresses, mailboxes, groups, theme, mail templates.
OTHER_PERMISSIONS = ("forms", "automation", "reports", "settings")
ORGANIZATION_PERMISSIONS = ("members", "security")
PERMISSIONS = (
    TICKET_PERMISSIONS
    + CUSTOMER_PERMISSIONS
    + KB_PERMISSIONS
    + OTHER_PERMISSIONS
    + ORGANIZATION_PERMISSIONS
)
# What a working role needs to enter the back office (/admin) rather than only the desk.
BACK_OFFICE_PERMISSIONS = frozenset(PERMISSIONS) - {
    "tickets.view",
    "tickets.reply",
    "tickets.note",
    "tickets.assign",
    "tickets.block",
    "tickets.delete",
    "customers.view",
}

BUILTIN_ROLES = {
    "admin": TICKET_PERMISSIONS + CUSTOMER_PERMISSIONS + KB_PERMISSIONS + OTHER_PERMISSIONS,
    "editor": KB_PERMISSIONS + ("forms",),
    "agent": (
        "tickets.view",
        "tickets.reply",
        "tickets.note",
        "tickets.assign",
        "customers.view",
    ),
    "light_agent": ("tickets.view", "tickets.note", "customers.view"),
}
BUILTIN_NAMES = {
    "admin": "Admin",
    "editor": "Editor",
    "agent": "Agent",
    "light_agent": "Light agent",
}
ORG_ADMIN_PERMISSIONS = ORGANIZATION_PERMISSIONS
EVERY_BRAND = None  # the key of a grant that holds on every brand, present and future
MAX_ROLE_NAME = 100


class RoleError(ValueError):
    """A change refused: `code` names the message (portal.web.messages)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# -- reading -----------------------------------------------------------------------------------


def grants(session: Session, user: User) -> dict[int | None, frozenset[str]]:
    """{brand id or EVERY_BRAND: permissions} an active staff account holds."""
    if user.role != "staff" or not user.active:
        return {}
    every: set[str] = set(ORG_ADMIN_PERMISSIONS) if user.org_admin else set()
    if user.every_brand_role_id is not None:
        role = session.get(Role, user.every_brand_role_id)
        every.update(role.permissions if role else ())
    held: dict[int | None, frozenset[str]] = {EVERY_BRAND: frozenset(every)} if every else {}
    rows = session.execute(
        select(BrandMember.brand_id, Role.permissions)
        .join(Role, Role.id == BrandMember.role_id)
        .where(BrandMember.user_id == user.id)
    )
    for brand_id, permissions in rows:
        held[brand_id] = frozenset(permissions) | every
    return held


def held_on(session: Session, user: User, brand_id: int) -> frozenset[str]:
    """The permissions `user` holds on the brand (theirs there, and on every brand); an
    automation Bot (portal.desk.actors) holds its own, on its own brand."""
    if getattr(user, "is_bot", False) is True:
        return user.permissions_on(brand_id)
    held = grants(session, user)
    return held.get(EVERY_BRAND, frozenset()) | held.get(brand_id, frozenset())


def holds(session: Session, user: User, permission: str, brand_id: int) -> bool:
    """Whether `user` holds `permission` on the brand: the domain's check, whatever the door."""
    return permission in held_on(session, user, brand_id)


def builtin(session: Session, key: str) -> Role:
    """A built-in role, made on first use (migrations make them too)."""
    role = session.scalar(select(Role).where(Role.key == key))
    if role is None:
        role = Role(key=key, name=BUILTIN_NAMES[key], permissions=list(BUILTIN_ROLES[key]))
        session.add(role)
        session.flush()
    return role


def all_roles(session: Session) -> list[Role]:
    """Built-in roles first (in BUILTIN_ROLES order), then custom ones by name."""
    for key in BUILTIN_ROLES:
        builtin(session, key)
    rows = list(session.scalars(select(Role)))
    order = list(BUILTIN_ROLES)
    return sorted(rows, key=lambda r: (r.key is None, order.index(r.key) if r.key else 0, r.name))


def holding(permission: str, brand_id: int | list[int] | None):
    """A condition on User: active staff holding `permission` on this brand (on any of these
    brands; None: on any brand)."""
    with_it = roles_with(permission)
    members = select(BrandMember.user_id).where(BrandMember.role_id.in_(with_it))
    if isinstance(brand_id, int):
        members = members.where(BrandMember.brand_id == brand_id)
    elif brand_id is not None:
        members = members.where(BrandMember.brand_id.in_(brand_id))
    return (
        (User.role == "staff")
        & User.active.is_(True)
        & (User.id.in_(members) | User.every_brand_role_id.in_(with_it))
    )


@dataclass
class Membership:
    """A member's roles as the members page shows and edits them."""

    org_admin: bool
    every_brand: Role | None
    per_brand: dict[int, Role]


def membership(session: Session, user: User) -> Membership:
    rows = session.execute(
        select(BrandMember.brand_id, Role)
        .join(Role, Role.id == BrandMember.role_id)
        .where(BrandMember.user_id == user.id)
    )
    every = session.get(Role, user.every_brand_role_id) if user.every_brand_role_id else None
    return Membership(bool(user.org_admin), every, {brand_id: role for brand_id, role in rows})


def describe(session: Session, member: Membership) -> dict:
    """The membership as plain data for the audit log's before/after."""
    names = dict(session.execute(select(Brand.id, Brand.slug)).all())
    return {
        "org_admin": member.org_admin,
        "every_brand": member.every_brand.name if member.every_brand else None,
        "brands": {names.get(b, str(b)): r.name for b, r in sorted(member.per_brand.items())},
    }


def active_org_admins(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "staff", User.org_admin.is_(True), User.active.is_(True))
    )


# -- changing ----------------------------------------------------------------------------------


def grant(
    session: Session,
    user: User,
    key: str,
    brands: Iterable[Brand] = (),
    *,
    every_brand: bool = False,
) -> None:
    """Set-up shortcut (demo, `flask admin create`, tests): a built-in role on `brands` or on
    every brand; "owner" makes an organization admin with no working role. Not audited: the
    callers record what they made."""
    user.role = "staff"
    if key == "owner":
        user.org_admin = True
        return
    role = builtin(session, key)
    if every_brand:
        user.every_brand_role_id = role.id
    session.flush()
    for brand in brands:
        _set_brand_role(session, user, brand.id, role)


def _set_brand_role(session: Session, user: User, brand_id: int, role: Role | None) -> None:
    row = session.scalar(
        select(BrandMember).where(BrandMember.user_id == user.id, BrandMember.brand_id == brand_id)
    )
    if role is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(BrandMember(user_id=user.id, brand_id=brand_id, role_id=role.id))
    else:
        row.role_id = role.id


def set_membership(
    session: Session,
    user: User,
    *,
    org_admin: bool,
    every_brand: Role | None,
    per_brand: Mapping[int, Role | None],
    actor: User,
    now: datetime,
    ip: str = "",
    record: bool = True,
) -> bool:
    """A member's roles as the members page sets them; refuses to leave the organization
    without an active organization admin. True when something changed (then recorded, unless
    the caller records it as part of its own entry)."""
    before = membership(session, user)
    if before.org_admin and not org_admin and user.active:
        if active_org_admins(session) <= 1:
            raise RoleError("last_org_admin")
    user.role = "staff"
    user.org_admin = org_admin
    user.every_brand_role_id = every_brand.id if every_brand else None
    for brand_id, role in per_brand.items():
        _set_brand_role(session, user, brand_id, role)
    session.flush()
    after = membership(session, user)
    old, new = describe(session, before), describe(session, after)
    if old == new or not record:
        return old != new
    action = "member.roles_changed"
    if old["org_admin"] != new["org_admin"]:
        action = "member.org_admin_granted" if org_admin else "member.org_admin_revoked"
    audit.record(
        session,
        action,
        now=now,
        actor=actor,
        target=f"user:{user.id}",
        target_name=f"{user.name} <{user.email}>",
        ip=ip,
        details={"before": old, "after": new},
    )
    return True


def _clean_permissions(permissions: Iterable[str]) -> list[str]:
    chosen = set(permissions)
    unknown = chosen - set(PERMISSIONS)
    if unknown:
        raise RoleError("permission_unknown")
    if not chosen:
        raise RoleError("permissions_none")
    return [p for p in PERMISSIONS if p in chosen]


def _clean_name(session: Session, name: str, role_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RoleError("role_name_missing")
    if len(name) > MAX_ROLE_NAME:
        raise RoleError("role_name_long")
    taken = session.scalar(
        select(Role.id).where(func.lower(Role.name) == name.lower(), Role.id != (role_id or 0))
    )
    if taken is not None:
        raise RoleError("role_name_taken")
    return name


def create_role(
    session: Session,
    name: str,
    permissions: Iterable[str],
    *,
    actor: User | None,
    now: datetime,
    ip: str = "",
) -> Role:
    role = Role(
        name=_clean_name(session, name, None),
        permissions=_clean_permissions(permissions),
        created_at=now,
    )
    session.add(role)
    session.flush()
    audit.record(
        session,
        "role.created",
        now=now,
        actor=actor,
        target=f"role:{role.id}",
        target_name=role.name,
        ip=ip,
        details={"permissions": role.permissions},
    )
    return role


def change_role(
    session: Session,
    role: Role,
    name: str,
    permissions: Iterable[str],
    *,
    actor: User,
    now: datetime,
    ip: str = "",
) -> None:
    if role.key is not None:
        raise RoleError("role_builtin")
    before = {"name": role.name, "permissions": list(role.permissions)}
    role.name = _clean_name(session, name, role.id)
    role.permissions = _clean_permissions(permissions)
    after = {"name": role.name, "permissions": list(role.permissions)}
    if before != after:
        audit.record(
            session,
            "role.changed",
            now=now,
            actor=actor,
            target=f"role:{role.id}",
            target_name=role.name,
            ip=ip,
            details={"before": before, "after": after},
        )


def delete_role(session: Session, role: Role, *, actor: User, now: datetime, ip: str = "") -> None:
    """Only a custom role that nobody holds."""
    if role.key is not None:
        raise RoleError("role_builtin")
    held = session.scalar(select(func.count()).where(BrandMember.role_id == role.id)) or 0
    held += session.scalar(select(func.count()).where(User.every_brand_role_id == role.id)) or 0
    if held:
        raise RoleError("role_in_use")
    audit.record(
        session,
        "role.deleted",
        now=now,
        actor=actor,
        target=f"role:{role.id}",
        target_name=role.name,
        ip=ip,
        details={"permissions": list(role.permissions)},
    )
    session.execute(delete(Role).where(Role.id == role.id))
