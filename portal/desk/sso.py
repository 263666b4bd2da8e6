"""Single sign-on: a brand's own site vouches for a customer with an HS256 JWT signed with the
brand's shared secret. Verify it, use it once, then create or update the customer."""

import math
import secrets
from dataclasses import dataclass
from datetime import datetime

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal.desk.accounts import (
    claim_requests,
    normalize_email,
    organization_for_email,
    user_by_email,
)
from portal.desk.models import SsoTokenUse
from portal.desk.tickets import valid_email

ALGORITHMS = ["HS256"]  # the only one: never "none", never a public-key algorithm
MAX_TOKEN_LENGTH = 8 * 1024
CLOCK_SKEW_SECONDS = 60  # an iat this far ahead of our clock is still accepted
MIN_SECRET_BYTES = 32  # what HS256 needs (RFC 7518 3.2); `flask brand jwt-secret` makes 32
REQUIRED_CLAIMS = ["iat", "jti", "email", "name"]


class SsoError(Exception):
    """Why a sign-in token was refused (the view maps each kind to a page)."""


class NotConfigured(SsoError):
    """The brand has no usable secret: single sign-on is off for it."""


class InvalidToken(SsoError):
    """Malformed, wrongly signed, wrong algorithm, or claims missing or of the wrong type."""


class ExpiredToken(SsoError):
    """iat too old or too far in the future, exp passed, or nbf not reached."""


class ReplayedToken(SsoError):
    """This jti was used at this brand before."""


class StaffAccount(SsoError):
    """The address belongs to staff: staff sign in with their password only."""


class InactiveAccount(SsoError):
    """The account is deactivated."""


class Conflict(SsoError):
    """Parallel sign-ins kept colliding on the same address or organization: try again."""


@dataclass(frozen=True)
class SsoClaims:
    jti: str
    email: str
    name: str
    external_id: str | None = None
    organization: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class SsoSignIn:
    """Whom to sign in, and the token's locale when the brand has it enabled (else None)."""

    user: User
    locale: str | None


def new_secret(session: Session, brand: Brand) -> str:
    """A new random secret for the brand (the old one stops working). Commits; returns it."""
    secret = secrets.token_urlsafe(32)
    brand.jwt_secret = secret
    session.commit()
    return secret


def sign_in_with_token(
    session: Session, brand: Brand, token: str | None, now: datetime, max_age: float
) -> SsoSignIn:
    """The customer the token vouches for, created or updated; raises an SsoError otherwise.
    The jti is recorded (committed) before the account is touched, so even a refused account
    cannot reuse the token."""
    # Read fresh, not from the brand passed in (a cached copy): a rotated secret is in force
    # at once in every worker.
    secret = session.scalar(select(Brand.jwt_secret).where(Brand.id == brand.id))
    if not secret or len(secret.encode()) < MIN_SECRET_BYTES:
        raise NotConfigured()
    claims = read_token(secret, token, now, max_age)
    record_token_use(session, brand.id, claims.jti, now)
    locale = claims.locale if claims.locale in brand.locales else None
    for _attempt in range(2):
        try:
            user = upsert_customer(session, brand.id, claims, locale, now)
            session.commit()
            return SsoSignIn(user=user, locale=locale)
        except IntegrityError:
            # A parallel sign-in created the same address or organization: look again.
            session.rollback()
    raise Conflict()


def read_token(secret: str, token: str | None, now: datetime, max_age: float) -> SsoClaims:
    """Verify signature, algorithm and times against `now`; check every claim's type."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken()
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=ALGORITHMS,
            options={
                "require": REQUIRED_CLAIMS,
                # Times are checked below against the `now` we are given (testable clock).
                "verify_iat": False,
                "verify_exp": False,
                "verify_nbf": False,
                # The secret is this brand's alone: no audience or issuer is configured.
                "verify_aud": False,
                "verify_iss": False,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    _check_times(payload, now.timestamp(), max_age)
    email = normalize_email(_text(payload.get("email"), 254))
    if not valid_email(email):
        raise InvalidToken()
    external_id = payload.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)  # sites often use numeric ids
    return SsoClaims(
        jti=_text(payload.get("jti"), 200),
        email=email,
        name=_text(payload.get("name"), 200),
        # Stored with the brand id in front (see _scoped), within the column's 200.
        external_id=_text(external_id, 150, required=False),
        organization=_text(payload.get("organization"), 200, required=False),
        locale=_text(payload.get("locale"), 16, required=False),
    )


def _number(value) -> float | None:
    """A finite JSON number, or None (booleans are not numbers here; NaN never compares)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        value = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return value if math.isfinite(value) else None


def _check_times(payload: dict, now: float, max_age: float) -> None:
    iat = _number(payload["iat"])
    if iat is None:
        raise InvalidToken()
    if not (now - max_age <= iat <= now + CLOCK_SKEW_SECONDS):
        raise ExpiredToken()
    for claim, still_valid in (
        ("exp", lambda t: now < t + CLOCK_SKEW_SECONDS),
        ("nbf", lambda t: t <= now + CLOCK_SKEW_SECONDS),
    ):
        if claim in payload:
            value = _number(payload[claim])
            if value is None:
                raise InvalidToken()
            if not still_valid(value):
                raise ExpiredToken()


def _text(value, max_length: int, required: bool = True) -> str | None:
    """A claim's text, stripped: a string, short enough, without control characters."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidToken()
    value = value.strip()
    if len(value) > max_length or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidToken()
    if not value:
        if required:
            raise InvalidToken()
        return None
    return value


def record_token_use(session: Session, brand_id: int, jti: str, now: datetime) -> None:
    """The jti is used once per brand: the unique (brand_id, jti) settles even a race. Commits."""
    session.add(SsoTokenUse(brand_id=brand_id, jti=jti, used_at=now))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ReplayedToken() from exc


def _scoped(brand_id: int, external_id: str) -> str:
    """External ids are the brand site's own: "42" at one brand is not "42" at another, while
    users are global. Stored as "<brand id>:<id>" so they never match across brands."""
    return f"{brand_id}:{external_id}"


def upsert_customer(
    session: Session, brand_id: int, claims: SsoClaims, locale: str | None, now: datetime
) -> User:
    """Match by this brand's external id, else by email; create the customer if neither.
    Staff and deactivated accounts are refused before anything is changed. Does not commit."""
    external_id = _scoped(brand_id, claims.external_id) if claims.external_id else None
    user = None
    if external_id is not None:
        user = session.scalar(
            select(User).where(User.external_id == external_id).order_by(User.id).limit(1)
        )
    if user is None:
        user = user_by_email(session, claims.email)
    if user is not None and user.role != "customer":
        raise StaffAccount()  # admin, editor, agent: a brand's site never vouches for staff
    if user is not None and not user.active:
        raise InactiveAccount()

    organization = _organization(session, claims.organization)
    if user is None:
        if organization is None:
            organization = organization_for_email(session, claims.email)  # as at sign-up
        user = User(email=claims.email, role="customer", active=True, created_at=now)
        session.add(user)
    elif user.email != claims.email and user_by_email(session, claims.email) is None:
        user.email = claims.email  # changed at the brand's site, and free here
    user.name = claims.name
    vouched = user.email == claims.email
    if vouched:
        user.email_confirmed_at = now  # the brand vouches for the address
    if organization is not None:
        user.customer_org_id = organization.id
    if external_id is not None and (
        user.external_id is None or user.external_id.startswith(f"{brand_id}:")
    ):
        user.external_id = external_id  # another brand's id is kept: it still matches there
    if locale:
        user.locale = locale
    session.flush()  # the unique email settles a race with a parallel sign-in
    if vouched:
        claim_requests(session, user)  # a confirmed address: what was sent from it is theirs
    return user


def _organization(session: Session, name: str | None) -> CustomerOrganization | None:
    if not name:
        return None
    found = session.scalar(select(CustomerOrganization).where(CustomerOrganization.name == name))
    if found is None:
        found = CustomerOrganization(name=name)
        session.add(found)
        session.flush()
    return found
