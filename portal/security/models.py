"""Security tables: the append-only audit and system log, staff TOTP second factors with their
recovery codes, and each organization's security settings.

They share kb's declarative Base (one metadata, one migration history), like portal.desk.models.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.clock import now
from kb.db import Base, UTCDateTime


class AuditEntry(Base):
    """One thing that happened, for the audit log (permission-relevant changes) and the system
    log (sign-ins, exports, deletions, security settings). Never changed nor deleted: no page
    or command does either. Who and what are copied as they were (names change later)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_at", "at", "id"),
        Index("ix_audit_entries_action_at", "action", "at"),
        Index("ix_audit_entries_actor_at", "actor_id", "at"),
        Index("ix_audit_entries_kind_at", "kind", "at"),
        Index("ix_audit_entries_brand_at", "brand_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    kind: Mapped[str] = mapped_column(String(8))  # audit, system
    action: Mapped[str] = mapped_column(String(64))  # e.g. member.role_changed, staff.sign_in
    # Who did it (None: Portal itself, or an unknown address trying to sign in).
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: kept after deletion
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    # What it was done to: "user:12", "brand:3", "ticket:88" ... and its name then.
    target: Mapped[str] = mapped_column(String(64), default="")
    target_name: Mapped[str] = mapped_column(String(254), default="")
    brand_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(45), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # before/after, counts ...


class TwoFactor(Base):
    """A staff member's TOTP second factor: pending until the first code confirms it."""

    __tablename__ = "two_factors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))  # base32
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_step: Mapped[int | None] = mapped_column(Integer)  # a code is good once
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class RecoveryCode(Base):
    """One single-use recovery code of a staff member's second factor (only its hash)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecuritySettings(Base):
    """An organization's security settings: two-factor sign-in required for all staff, the
    IP allowlist for staff (addresses and CIDR ranges)."""

    __tablename__ = "security_settings"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    ip_allowlist: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class OrganizationApiKey(Base):
    """An organization's API key (at most one): only the SHA-256 hash of its secret and a
    prefix to recognise it by are kept; the secret is shown once. Rotating it writes a new
    hash over the old one, so the old key stops working in the same commit."""

    __tablename__ = "organization_api_keys"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # "pk_ab12cd": shown as "pk_ab12cd…"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: kept
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
