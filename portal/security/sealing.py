"""Secrets Portal must read back, such as an IMAP mailbox's password: sealed at rest with a key
derived from SECRET_KEY (Fernet: AES-128-CBC with HMAC-SHA256, from `cryptography`), so that a
copy of the database alone does not give them away.

A sealed value starts with PREFIX; a value written before sealing existed is read as it is. A
changed SECRET_KEY cannot open what the old one sealed (SealError): the admin types the
password again.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"


class SealError(ValueError):
    """A sealed value this SECRET_KEY cannot open."""


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal sealed secrets v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plain: str, secret_key: str) -> str:
    return PREFIX + _fernet(secret_key).encrypt(plain.encode()).decode("ascii")


def is_sealed(stored: str | None) -> bool:
    return (stored or "").startswith(PREFIX)


def unseal(stored: str | None, secret_key: str | None) -> str:
    """The plain value; SealError when it is sealed and this key (or none) cannot open it."""
    if not is_sealed(stored):
        return stored or ""
    if not secret_key:
        raise SealError("no key")
    try:
        return _fernet(secret_key).decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, ValueError) as error:
        raise SealError("another key") from error
