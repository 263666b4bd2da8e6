"""Accounts: password hashing (Argon2), sign-up, mailed tokens, claiming requests, sessions."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import delete, null, select, update
from sqlalchemy.orm import Session

from kb.people import ROLES, BrandMember, User
from portal.desk.models import AccountToken, LoginSession, Ticket, TicketShare
from portal.desk.orgs import organization_for_email

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
TOKEN_PURPOSES = ("confirm", "reset", "email", "invite")
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


def check_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, email: str) -> str | None:
    """Why a new password is refused ("too_short", "is_email"), or None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return "too_short"
    if normalize_email(password) == normalize_email(email):
        return "is_email"
    return None


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def user_for_sign_in(session: Session, name: str) -> User | None:
    """The account an address names, or a staff member's login ID (no "@")."""
    if "@" in (name or ""):
        return user_by_email(session, name)
    login_id = (name or "").strip().lower()
    return session.scalar(select(User).where(User.login_id == login_id)) if login_id else None


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email (or login ID) and password, or None (same work either
    way). The caller decides what an unconfirmed address may do."""
    user = user_for_sign_in(session, email)
    ok = check_password(user, password or "")
    return user if ok and user.active else None


def create_or_update_user(
    session: Session, email: str, name: str, role: str, password: str | None = None
) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = normalize_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        session.add(user)
    user.name, user.role = name, role
    if password is not None:
        user.password_hash = hash_password(password)
    return user


# -- tokens ------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(
    session: Session,
    user: User,
    purpose: str,
    *,
    now: datetime,
    hours: float,
    new_email: str | None = None,
    brand_id: int | None = None,
    locale: str | None = None,
) -> str:
    """A new single-use token for `user`; only its SHA-256 is stored. Returns the token."""
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_digest(token),
            new_email=new_email,
            brand_id=brand_id,
            locale=locale,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token


@dataclass
class TokenCheck:
    """What a token from a link is: "ok", "expired", "used" or "invalid" (the row if known)."""

    status: str
    row: AccountToken | None = None
    user: User | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_token(session: Session, token: str | None, purpose: str, now: datetime) -> TokenCheck:
    """Looks a token up by its hash. Malformed tokens are refused before any query."""
    if not token or not _TOKEN.match(token):
        return TokenCheck("invalid")
    digest = _digest(token)
    row = session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == digest, AccountToken.purpose == purpose
        )
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return TokenCheck("invalid")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return TokenCheck("invalid", row)
    if row.used_at is not None:
        return TokenCheck("used", row, user)
    if row.expires_at <= now:
        return TokenCheck("expired", row, user)
    return TokenCheck("ok", row, user)


def use_token(session: Session, row: AccountToken, now: datetime) -> bool:
    """Marks the token used; False when another request used it first (atomic)."""
    result = session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    row.used_at = now
    return True


def revoke_tokens(session: Session, user: User, purposes: tuple[str, ...], now: datetime) -> None:
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose.in_(purposes),
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


# -- sign-up and confirmation ------------------------------------------------------------------


@dataclass
class SignUp:
    """The outcome of a sign-up: a new account to confirm, or a known address to warn."""

    user: User
    created: bool
    token: str  # a confirm token (created) or a reset token (known address)


def sign_up(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    locale: str,
    brand_id: int | None,
    now: datetime,
    confirm_hours: float,
    reset_hours: float,
) -> SignUp:
    """A new unconfirmed customer with a confirm token; for a known address, nothing changes
    and a reset token is issued instead (the caller mails either, and answers the same)."""
    email = normalize_email(email)
    password_hash = hash_password(password)  # hashed either way: the same time for both
    user = user_by_email(session, email)
    if user is not None:
        token = issue_token(
            session, user, "reset", now=now, hours=reset_hours, brand_id=brand_id, locale=locale
        )
        return SignUp(user=user, created=False, token=token)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        role="customer",
        locale=locale,
        active=True,
        # null(), not None: the ORM leaves a None out of the INSERT and the default fires.
        email_confirmed_at=null(),
        created_at=now,
    )
    session.add(user)
    session.flush()
    token = issue_token(
        session, user, "confirm", now=now, hours=confirm_hours, brand_id=brand_id, locale=locale
    )
    return SignUp(user=user, created=True, token=token)


def claim_requests(session: Session, user: User) -> int:
    """Requests sent without an account from the user's (confirmed) address become theirs,
    and shares (CC) to that address are linked to the account. Returns the tickets claimed."""
    email = normalize_email(user.email)
    claimed = session.execute(
        update(Ticket)
        .where(Ticket.requester_email == email, Ticket.requester_id.is_(None))
        .values(requester_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(TicketShare)
        .where(TicketShare.email == email, TicketShare.user_id.is_(None))
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    return claimed or 0


def join_organization_by_domain(session: Session, user: User) -> None:
    """A customer without an organization joins the one that has their (confirmed) address's
    domain. Only after confirmation: typing an address proves nothing."""
    if user.role == "customer" and user.customer_org_id is None:
        org = organization_for_email(session, user.email)
        if org is not None:
            user.customer_org_id = org.id


def confirm_email(session: Session, user: User, now: datetime) -> None:
    """The address is the user's: confirmed, its organization joined, and what was sent from
    it claimed."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    join_organization_by_domain(session, user)
    claim_requests(session, user)


# -- personal settings -------------------------------------------------------------------------


def save_profile(
    session: Session,
    user: User,
    *,
    name: str,
    nickname: str | None,
    locale: str,
    phone: str | None = None,
    receives_tickets: bool | None = None,
) -> None:
    """Everyone's name, nickname and language; staff also their phone and whether round-robin
    gives them new tickets (portal.desk.assignment.receivers). A customer's phone and switch
    are left alone whatever is passed."""
    user.name = name
    user.nickname = nickname or None
    user.locale = locale
    if user.role == "staff":
        user.phone = phone or None
        if receives_tickets is not None:
            user.receives_tickets = bool(receives_tickets)
    session.flush()


# -- passwords ---------------------------------------------------------------------------------


def change_password(session: Session, user: User, new_password: str, now: datetime) -> None:
    """Sets the password and ends every session (session_version); unused reset and address
    change links stop working."""
    user.password_hash = hash_password(new_password)
    user.session_version = (user.session_version or 1) + 1
    end_all_login_sessions(session, user)
    revoke_tokens(session, user, ("reset", "email"), now)


def request_reset(
    session: Session, email: str, *, now: datetime, hours: float, brand_id=None, locale=None
) -> tuple[User, str] | None:
    """A reset token for the active account with this address, or None (no account)."""
    user = user_by_email(session, email)
    if user is None or not user.active:
        return None
    token = issue_token(
        session, user, "reset", now=now, hours=hours, brand_id=brand_id, locale=locale
    )
    return user, token


def reset_password(
    session: Session, check: TokenCheck, new_password: str, now: datetime
) -> User | None:
    """Uses a reset token: the new password, every other session ended. The link came by mail,
    so the address is confirmed too. None when the token was used meanwhile."""
    if not check.ok or not use_token(session, check.row, now):
        return None
    user = check.user
    change_password(session, user, new_password, now)
    confirm_email(session, user, now)
    return user


def last_brand_id(session: Session, user: User) -> int | None:
    """The brand an account belongs to, for mail that no help center asked for: the brand of
    its latest request or of the latest link a help center mailed it (sign-up, reset), or a
    staff member's only brand; None when it never used one."""
    latest = [
        row
        for row in (
            session.execute(
                select(Ticket.brand_id, Ticket.created_at)
                .where(Ticket.requester_id == user.id)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .limit(1)
            ).first(),
            session.execute(
                select(AccountToken.brand_id, AccountToken.created_at)
                .where(AccountToken.user_id == user.id, AccountToken.brand_id.is_not(None))
                .order_by(AccountToken.created_at.desc(), AccountToken.id.desc())
                .limit(1)
            ).first(),
        )
        if row is not None
    ]
    if latest:
        return max(latest, key=lambda row: row[1])[0]
    brands = session.scalars(
        select(BrandMember.brand_id).where(BrandMember.user_id == user.id).limit(2)
    ).all()
    return brands[0] if len(brands) == 1 else None


# -- change of address -------------------------------------------------------------------------


def request_email_change(
    session: Session, user: User, new_email: str, *, now: datetime, hours: float
) -> str | None:
    """A token mailed to the new address; None when another account has that address
    (the caller answers the same and sends nothing)."""
    new_email = normalize_email(new_email)
    if user_by_email(session, new_email) is not None:
        return None
    return issue_token(session, user, "email", now=now, hours=hours, new_email=new_email)


def apply_email_change(session: Session, check: TokenCheck, now: datetime) -> str:
    """Follows an address-change link: "changed", "taken" (another account has the address
    now) or "invalid" (used meanwhile)."""
    if not check.ok or not check.row.new_email:
        return "invalid"
    new_email = normalize_email(check.row.new_email)
    other = user_by_email(session, new_email)
    if other is not None and other.id != check.user.id:
        return "taken"
    if not use_token(session, check.row, now):
        return "invalid"
    user = check.user
    user.email = new_email
    user.email_confirmed_at = now
    session.flush()  # the unique index settles a race with a sign-up for the same address
    join_organization_by_domain(session, user)
    claim_requests(session, user)
    return "changed"


# -- sessions ----------------------------------------------------------------------------------

_SESSION_ID = re.compile(r"^([1-9][0-9]{0,9}):([1-9][0-9]{0,9}):([A-Za-z0-9_-]{43})$")


def parse_session_id(value: str | None) -> tuple[int, int, str] | None:
    """(user id, session version, session key) from a LoginUser id "<id>:<version>:<key>"."""
    match = _SESSION_ID.match(value or "")
    if not match:
        return None
    user_id, version = int(match.group(1)), int(match.group(2))
    if user_id >= 2**31 or version >= 2**31:
        return None
    return user_id, version, match.group(3)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_login_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """A new sign-in of one browser, valid for `lifetime`: its random key (only the key's
    hash is kept)."""
    key = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id, key_hash=_key_hash(key), created_at=now, expires_at=now + lifetime
        )
    )
    return key


def login_session_user(session: Session, session_id: str | None, now: datetime) -> User | None:
    """The account a session id signs in: its sign-in still open and unexpired, the account's
    session version unchanged, the account allowed to sign in. One query."""
    parsed = parse_session_id(session_id)
    if parsed is None:
        return None
    user_id, version, key = parsed
    user = session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == user_id,
            LoginSession.key_hash == _key_hash(key),
            LoginSession.expires_at > now,
        )
    )
    if not may_sign_in(user) or (user.session_version or 1) != version:
        return None
    return user


def end_login_session(session: Session, session_id: str | None) -> None:
    """Signing out: this browser's sign-in ends, its cookies (and any copies) stop working."""
    parsed = parse_session_id(session_id)
    if parsed is not None:
        session.execute(
            delete(LoginSession).where(
                LoginSession.user_id == parsed[0], LoginSession.key_hash == _key_hash(parsed[2])
            )
        )


def end_all_login_sessions(session: Session, user: User) -> None:
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def remove_expired_login_sessions(session: Session, now: datetime) -> int:
    """Rows of sign-ins past their lifetime (they sign nobody in already): the hourly sweep."""
    result = session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    session.commit()
    return result.rowcount or 0


def may_sign_in(user: User | None) -> bool:
    """Active, with a confirmed address."""
    return user is not None and user.active and user.email_confirmed_at is not None


class LoginUser(UserMixin):
    """What Flask-Login keeps for a signed-in account. Its id carries the session version and
    the sign-in's key (LoginSession): signing out ends this sign-in, a password change every
    one, remember-me cookies included."""

    def __init__(self, user: User, key: str):
        self.key = key
        self.user = user
        self.id = user.id
        self.role = user.role
        self.email = user.email
        self.name = user.name

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version or 1}:{self.key}"
