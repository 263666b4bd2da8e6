"""People: accounts (staff and customers), their brand memberships, customers' organizations.

Both the knowledge base (section audiences) and the help desk (requests, sharing) use these, so
they live here, below both: `kb` creates its tables without the help desk.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    cast,
    false,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from kb.clock import now
from kb.db import Base, UTCDateTime

# Staff hold roles per brand (Role, BrandMember below); customers hold none.
ROLES = ("staff", "customer")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="customer", index=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Shown instead of the name when set: a customer's to agents; a staff member's to customers
    # (replies, mail: display_name_for_customers below).
    nickname: Mapped[str | None] = mapped_column(String(100))
    # Staff: a phone number colleagues can reach them at (their personal settings).
    phone: Mapped[str | None] = mapped_column(String(40))
    # None until the address is confirmed: sign-up passes None explicitly (other accounts are
    # made confirmed). Nothing works for an unconfirmed customer.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now)
    # Part of every session cookie: bumped on password change, which ends every session.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The customer's company (CustomerOrganization below), not the tenant (organization_id).
    customer_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_organizations.id", ondelete="SET NULL"), index=True
    )
    # Single sign-on: the id the brand's own site gives this person.
    external_id: Mapped[str | None] = mapped_column(String(200))
    # Agents: whether round-robin gives them new tickets (off on vacation, for example).
    receives_tickets: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Staff: organization admins manage members and security (no tickets or content unless
    # they also hold a working role); a role held on every brand, present and future.
    org_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # (No foreign key: SQLite could then not drop the column without rebuilding users, which
    # cascades; deleting a role that anyone holds is refused instead.)
    every_brand_role_id: Mapped[int | None] = mapped_column(Integer)
    # Staff: a sign-in name besides the address (letters, digits, . _ -), unique.
    login_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # Set when invited; cleared when the invitation's set-password link is used.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Role(Base):
    """A named set of permissions (portal.security.roles.PERMISSIONS). Built-in roles have a
    key (admin, editor, agent, light_agent) and cannot be edited; custom roles have none."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    permissions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


def display_name_for_customers(user: User) -> str:
    """How a staff member is named to customers (their replies on the request page, reply
    mail, the {{agent_name}} placeholder): the nickname when they set one, else the name."""
    return user.nickname or user.name or ""


class BrandMember(Base):
    """A staff account's role on one brand: a member can be agent on one brand and editor on
    another."""

    __tablename__ = "brand_members"
    __table_args__ = (UniqueConstraint("user_id", "brand_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)


class CustomerOrganization(Base):
    """A customer's company. Members can see each other's requests when it shares them."""

    __tablename__ = "customer_organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # New customers with an address at one of these domains join it (lower case, no "@").
    domains: Mapped[list] = mapped_column(JSON, default=list)
    shares_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


def roles_with(permission: str):
    """A select() of the ids of roles holding `permission` (the JSON list read as text: the
    same on SQLite and PostgreSQL, and permission names hold no LIKE wildcards)."""
    return select(Role.id).where(cast(Role.permissions, String).like(f'%"{permission}"%'))


def members_holding(permission: str):
    """A condition on User: active staff holding `permission` on some brand (or every one)."""
    with_it = roles_with(permission)
    on_a_brand = select(BrandMember.user_id).where(BrandMember.role_id.in_(with_it))
    return (
        (User.role == "staff")
        & User.active.is_(True)
        & (User.id.in_(on_a_brand) | User.every_brand_role_id.in_(with_it))
    )
