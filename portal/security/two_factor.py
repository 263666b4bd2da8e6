"""Staff two-factor sign-in: a TOTP secret (pending until its first code confirms it), ten
single-use recovery codes kept only as SHA-256 hashes, and whether an organization requires it.

Codes are checked with one step of 30 seconds either side; a step that signed in once is not
good again (last_used_step). Every change records a system-log entry in the caller's
transaction; the caller commits.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Organization
from kb.people import User
from portal.security import audit
from portal.security.models import RecoveryCode, SecuritySettings, TwoFactor

ISSUER = "Portal"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _clean(code: str | None) -> str:
    """What was typed, without the spaces and dashes people copy along."""
    return "".join((code or "").split()).replace("-", "").lower()[:64]


def _hash(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _record(session: Session, action: str, user: User, now: datetime, ip: str) -> None:
    audit.record(
        session,
        action,
        now=now,
        kind=audit.SYSTEM,
        actor=user,
        target=f"user:{user.id}",
        target_name=user.email,
        ip=ip,
    )


def _row(session: Session, user: User) -> TwoFactor | None:
    return session.get(TwoFactor, user.id)


def enabled(session: Session, user: User) -> bool:
    """Whether the user signs in with a confirmed second factor."""
    row = _row(session, user)
    return row is not None and row.confirmed_at is not None


def organization_id_clause(user: User):
    """The user's organization, or, for an account that names none (an installation with one
    organization), the installation's first: a value or a scalar subquery."""
    if user.organization_id is not None:
        return user.organization_id
    return select(func.min(Organization.id)).scalar_subquery()


def organization_id_of(session: Session, user: User) -> int | None:
    """The organization whose security settings apply to the user."""
    return user.organization_id or session.scalar(select(func.min(Organization.id)))


def required(session: Session, user: User) -> bool:
    """Whether the user is staff of an organization that requires two-factor sign-in (one
    query: staff pages ask it on every request)."""
    if user.role != "staff":
        return False
    return bool(
        session.scalar(
            select(SecuritySettings.require_two_factor).where(
                SecuritySettings.organization_id == organization_id_clause(user)
            )
        )
    )


def start(session: Session, user: User, now: datetime) -> tuple[str, str]:
    """A new pending secret (replacing any earlier pending one) and its otpauth:// URI.
    A confirmed second factor is not replaced: disable it first."""
    row = _row(session, user)
    if row is not None and row.confirmed_at is not None:
        raise ValueError("two-factor sign-in is already enabled")
    secret = pyotp.random_base32()  # 32 base32 characters: 160 bits
    if row is None:
        row = TwoFactor(user_id=user.id, secret=secret, created_at=now)
        session.add(row)
    else:
        row.secret, row.created_at, row.last_used_step = secret, now, None
    session.flush()
    return secret, _totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def pending_secret(session: Session, user: User) -> str | None:
    """The secret started but not yet confirmed, if any (shown again on the enrolment page)."""
    row = _row(session, user)
    return row.secret if row is not None and row.confirmed_at is None else None


def otpauth_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(row: TwoFactor, code: str, now: datetime) -> int | None:
    """The time step whose code this is (one step either side of now), unless already used."""
    code = _clean(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(row.secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if row.last_used_step is not None and step <= row.last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm(
    session: Session, user: User, code: str, now: datetime, ip: str = ""
) -> list[str] | None:
    """Turns the pending secret on with its first code: the ten recovery codes (shown once;
    only their hashes are kept), or None when the code is wrong or nothing is pending."""
    row = _row(session, user)
    if row is None or row.confirmed_at is not None:
        return None
    step = _matching_step(row, code, now)
    if step is None:
        return None
    row.confirmed_at, row.last_used_step = now, step
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    _record(session, "two_factor.enabled", user, now, ip)
    session.flush()
    return codes


def _new_recovery_code() -> str:
    """Ten base32 characters in two groups (50 bits), e.g. "k3j9d-x2mqa"."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def verify(session: Session, user: User, code: str, now: datetime, ip: str = "") -> bool:
    """Whether `code` is the user's current TOTP code (each step good once) or one of their
    unused recovery codes (used up by this)."""
    row = _row(session, user)
    if row is None or row.confirmed_at is None:
        return False
    step = _matching_step(row, code, now)
    if step is not None:
        row.last_used_step = step
        session.flush()
        return True
    if not _clean(code):
        return False
    recovery = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        return False
    recovery.used_at = now
    _record(session, "recovery_code.used", user, now, ip)
    session.flush()
    return True


def recovery_codes_left(session: Session, user: User) -> int:
    """How many recovery codes the user has not used."""
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def disable(session: Session, user: User, code: str, now: datetime, ip: str = "") -> bool:
    """Turns two-factor sign-in off with a current code (or a recovery code); False when the
    code is wrong. The secret and every recovery code are deleted."""
    if not verify(session, user, code, now, ip):
        return False
    session.delete(_row(session, user))
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    _record(session, "two_factor.disabled", user, now, ip)
    session.flush()
    return True


def set_required(
    session: Session, actor: User, organization_id: int, on: bool, now: datetime, ip: str = ""
) -> None:
    """The organization's "require two-factor for all staff" switch, recorded when it changes."""
    settings = session.get(SecuritySettings, organization_id)
    if settings is None:
        settings = SecuritySettings(organization_id=organization_id, ip_allowlist=[])
        session.add(settings)
    if bool(settings.require_two_factor) == on:
        return
    settings.require_two_factor = on
    audit.record(
        session,
        "security.two_factor_required",
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"organization:{organization_id}",
        ip=ip,
        details={"on": on},
    )
    session.flush()


def is_required_for(session: Session, organization_id: int | None) -> bool:
    """Whether the organization requires two-factor sign-in for its staff."""
    settings = session.get(SecuritySettings, organization_id) if organization_id else None
    return bool(settings is not None and settings.require_two_factor)
