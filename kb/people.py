"""People: accounts (staff and customers), their brand memberships, customers' organizations.

Both the knowledge base (section audiences) and the help desk (requests, sharing) use these, so
they live here, below both: `kb` creates its tables without the help desk.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from kb.clock import now
from kb.db import Base, UTCDateTime

ROLES = ("admin", "editor", "agent", "customer")


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


def display_name_for_customers(user: User) -> str:
    """How a staff member is named to customers (their replies on the request page, reply
    mail, the {{agent_name}} placeholder): the nickname when they set one, else the name."""
    return user.nickname or user.name or ""


class BrandMember(Base):
    """A staff account's membership of a brand: editors and agents work only in their brands."""

    __tablename__ = "brand_members"
    __table_args__ = (UniqueConstraint("user_id", "brand_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)


class CustomerOrganization(Base):
    """A customer's company. Members can see each other's requests when it shares them."""

    __tablename__ = "customer_organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # New customers with an address at one of these domains join it (lower case, no "@").
    domains: Mapped[list] = mapped_column(JSON, default=list)
    shares_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
