"""Accounts: password hashing (Argon2) and creating users."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import ROLES, User

_hasher = PasswordHasher()


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


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same work either way)."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    ok = check_password(user, password or "")
    return user if ok and user.active else None


def create_or_update_user(
    session: Session, email: str, name: str, role: str, password: str | None = None
) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        session.add(user)
    user.name, user.role = name, role
    if password is not None:
        user.password_hash = hash_password(password)
    return user


class LoginUser(UserMixin):
    """What Flask-Login keeps for a signed-in account."""

    def __init__(self, user: User):
        self.user = user
        self.id = user.id
        self.role = user.role
        self.email = user.email
        self.name = user.name
