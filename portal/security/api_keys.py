"""The organization API key: made or rotated on request, its secret shown once and kept only
as a SHA-256 hash, recognised by a short prefix; rotating it ends the old key at once.

The secret is 256 random bits (secrets.token_urlsafe(32)) after "pk_": a fast hash is enough
for a secret no one can guess (security.md, "Secrets"). Used by the API (a later issue)
through verify().
"""

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Organization
from kb.people import User
from portal.security import audit
from portal.security.models import OrganizationApiKey

PREFIX = "pk_"
SECRET_BYTES = 32
SHOWN_CHARACTERS = 9  # "pk_" and six of the secret: enough to tell keys apart, nothing more
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet.
_SHAPE = re.compile(r"pk_[A-Za-z0-9_-]{43}")


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def key_of(session: Session, organization: Organization) -> OrganizationApiKey | None:
    """The organization's key (its prefix and dates; never the secret), if it has one."""
    return session.get(OrganizationApiKey, organization.id)


def create_or_rotate(
    session: Session, organization: Organization, actor: User, now: datetime, ip: str = ""
) -> str:
    """A new key for the organization, replacing its old one if any (which stops working
    with this transaction's commit): the plaintext, to be shown once and never again.
    Recorded as "api_key.rotated" (details: created or rotated, the new key's prefix)."""
    plaintext = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    key = session.get(OrganizationApiKey, organization.id)
    rotated = key is not None
    if key is None:
        key = OrganizationApiKey(organization_id=organization.id)
        session.add(key)
    key.key_hash = _hash(plaintext)
    key.prefix = plaintext[:SHOWN_CHARACTERS]
    key.created_at = now
    key.created_by_id = actor.id
    key.last_used_at = None
    audit.record(
        session,
        "api_key.rotated",
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"organization:{organization.id}",
        target_name=organization.name,
        ip=ip,
        details={"event": "rotated" if rotated else "created", "prefix": key.prefix},
    )
    session.flush()
    return plaintext


def verify(session: Session, presented: str | None, now: datetime | None = None):
    """The organization whose current key `presented` is, else None. Empty and malformed
    keys are refused before any lookup; the stored hash is compared in constant time. With
    `now`, the key's last use is set (the caller commits)."""
    if not isinstance(presented, str) or not _SHAPE.fullmatch(presented):
        return None
    digest = _hash(presented)
    key = session.scalar(select(OrganizationApiKey).where(OrganizationApiKey.key_hash == digest))
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    if now is not None:
        key.last_used_at = now
        session.flush()
    return session.get(Organization, key.organization_id)
