"""The audit and system log: one append-only table (AuditEntry), written in the caller's
transaction so that an entry exists exactly when its change does.

- kind "audit": permission-relevant changes (roles, brand scopes, custom roles, invitations,
  (de)activation, organization admins).
- kind "system": sign-in, sign-out and failed sign-in of staff, deletions, exports, two-factor
  and IP-allowlist changes, API-key rotation, retention runs.

Nothing here updates or deletes an entry, and no page or command does.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from kb.people import User
from portal.security.models import AuditEntry

AUDIT, SYSTEM = "audit", "system"


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    kind: str = AUDIT,
    actor: User | None = None,
    actor_email: str = "",
    target: str = "",
    target_name: str = "",
    brand_id: int | None = None,
    ip: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Add one entry (the caller commits). `actor` None: Portal itself, or, with
    `actor_email`, someone not signed in (a failed sign-in names the address tried)."""
    if kind not in (AUDIT, SYSTEM):
        raise ValueError(f"unknown kind {kind!r}")
    entry = AuditEntry(
        at=now,
        kind=kind,
        action=action[:64],
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.name if actor is not None else "")[:200],
        actor_email=(actor.email if actor is not None else actor_email)[:254],
        target=target[:64],
        target_name=target_name[:254],
        brand_id=brand_id,
        ip=(ip or "")[:45],
        details=details or {},
    )
    session.add(entry)
    return entry
