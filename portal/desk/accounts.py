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


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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

    @property
    def role(self) -> str:
        return self.user.role
