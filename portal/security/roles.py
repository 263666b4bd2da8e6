"""Roles and permissions: what a member may do, per brand.

Every guard in `portal.access` asks for a permission from PERMISSIONS on a brand, never for a
role's name. A role is a named set of permissions; a member holds a role per brand (or one role
on every brand). Organization admins manage people and security; unless they also hold a
working role they see no tickets or content.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.people import BrandMember, User

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

BUILTIN_ROLES = {
    "admin": TICKET_PERMISSIONS + CUSTOMER_PERMISSIONS + KB_PERMISSIONS + OTHER_PERMISSIONS,
    "editor": KB_PERMISSIONS + ("forms",),
    "agent": (
        "tickets.view",
        "tickets.reply",
        "tickets.note",
        "tickets.assign",
        "customers.view",
        "customers.edit",
    ),
    "light_agent": ("tickets.view", "tickets.note", "customers.view"),
}
ORG_ADMIN_PERMISSIONS = ORGANIZATION_PERMISSIONS
EVERY_BRAND = None  # the key of a grant that holds on every brand, present and future


def grants(session: Session, user: User) -> dict[int | None, frozenset[str]]:
    """{brand id or EVERY_BRAND: permissions} the user holds."""
    if user.role == "admin":
        return {EVERY_BRAND: frozenset(PERMISSIONS)}
    held = frozenset(BUILTIN_ROLES.get(user.role, ()))
    if not held:
        return {}
    brand_ids = session.scalars(select(BrandMember.brand_id).where(BrandMember.user_id == user.id))
    return {brand_id: held for brand_id in brand_ids}
