"""The organization that runs this Portal (the tenant, not a customer's company): its name and
the address its pages are reached at."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Organization
from kb.people import User
from portal.security import audit

MAX_NAME = 200


class InvalidName(ValueError):
    """The name cannot be saved: `code` (name_required, name_too_long) names the problem."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def organization_of(session: Session, user: User) -> Organization | None:
    """The user's organization, or, for an account that names none (an installation with one
    organization), the installation's first."""
    org_id = user.organization_id or session.scalar(select(func.min(Organization.id)))
    return session.get(Organization, org_id) if org_id is not None else None


def rename(
    session: Session, organization: Organization, name: str, actor: User, now: datetime, ip: str
) -> bool:
    """Give the organization a new name (spaces at the ends dropped), recorded with before and
    after; False when it is the same. InvalidName for an empty or too long one."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidName("name_required")
    if len(name) > MAX_NAME:
        raise InvalidName("name_too_long")
    if name == organization.name:
        return False
    before, organization.name = organization.name, name
    audit.record(
        session,
        "tenant.renamed",
        now=now,
        kind=audit.AUDIT,
        actor=actor,
        target=f"organization:{organization.id}",
        target_name=name,
        ip=ip,
        details={"before": before, "after": name},
    )
    session.flush()
    return True
