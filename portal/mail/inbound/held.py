"""What agents are told about the mail the sender's rate limit held (a runaway loop, a storm):
who sent it, how many, and since when. Admins let it through at /admin/mail-in. (Mail held
because its sender is blocked is not this: agents blocked them, and it stays out.)"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.desk.blocking import MAIL_REASON
from portal.mail.models import HELD, InboundMail


@dataclass(frozen=True)
class HeldSender:
    sender: str
    count: int
    last_at: datetime


def held_senders(
    session: Session, brand_ids: list[int] | None, since: datetime, limit: int = 5
) -> list[HeldSender]:
    """Senders whose mail to these brands (None: every brand) is held since `since`, the
    most recent first."""
    stmt = (
        select(InboundMail.sender, func.count(), func.max(InboundMail.received_at))
        .where(
            InboundMail.status == HELD,
            InboundMail.received_at >= since,
            or_(InboundMail.reason.is_(None), InboundMail.reason != MAIL_REASON),
        )
        .group_by(InboundMail.sender)
        .order_by(func.max(InboundMail.received_at).desc())
        .limit(limit)
    )
    if brand_ids is not None:
        stmt = stmt.where(InboundMail.brand_id.in_(brand_ids))
    return [HeldSender(sender or "?", count, at) for sender, count, at in session.execute(stmt)]
