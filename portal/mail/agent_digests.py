"""Mail to agents about their notices: one digest per agent with everything that arrived since
the last one (portal.desk.automation.agent_alerts keeps the notices), and the words that say
what each notice is about (the agent's notifications page says them alike)."""

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kb.locales import UI_LOCALES
from kb.models import Brand
from kb.people import User
from portal.desk.automation import agent_alerts
from portal.desk.automation.agent_alerts import NoticeRow
from portal.mail.compose import absolute_url, queue_mail


def what_happened(notice) -> str:
    """One notice in the reader's language: what happened, and by whom."""
    who = notice.actor_name
    kind = notice.kind
    if kind == "assigned_to_me":
        return _("Assigned to you by %(who)s", who=who) if who else _("Assigned to you")
    if kind == "assigned_to_group":
        return (
            _("Assigned to your group by %(who)s", who=who) if who else _("Assigned to your group")
        )
    if kind == "customer_replied":
        return _("%(who)s replied", who=who) if who else _("The customer replied")
    if kind == "mentioned":
        return (
            _("%(who)s mentioned you in an internal note", who=who)
            if who
            else _("You were mentioned in an internal note")
        )
    if kind == "note_on_followed":
        return (
            _("%(who)s added an internal note", who=who) if who else _("An internal note was added")
        )
    if kind == "group_alert":
        return _("Alert for your group: %(reason)s", reason=notice.text or "")
    return kind


def mail_locale(user: User) -> str:
    return user.locale if user.locale in UI_LOCALES else "en"


def send_digests(session: Session, now) -> int:
    """Queue one digest mail for each agent with unmailed notices, each committed with its
    notices marked mailed (the scheduler leader calls this every minute); how many mails."""
    sent = 0
    for user_id in agent_alerts.agents_with_mail_due(session):
        user = session.get(User, user_id)
        rows = agent_alerts.claim_digest(session, user, now) if user is not None else []
        if rows and user.active and user.role == "staff":
            _queue_digest(session, user, rows)
            sent += 1
        session.commit()
    agent_alerts.forget_old(session, now)
    session.commit()
    return sent


def _queue_digest(session: Session, user: User, rows: list[NoticeRow]) -> None:
    brand_ids = {row.ticket.brand_id for row in rows}
    brand = session.get(Brand, brand_ids.pop()) if len(brand_ids) == 1 else None
    lines = [
        {
            "number": row.ticket.id,
            "subject": row.ticket.subject,
            "notice": row.notice,
            "link": absolute_url("agent.ticket", ticket_id=row.ticket.id),
        }
        for row in rows
    ]
    queue_mail(
        session,
        "agent_notices",
        brand=brand,
        locale=mail_locale(user),
        to=user.email,
        name=user.nickname or user.name,
        lines=lines,
        count=len(lines),
        what=what_happened,
        notifications_link=absolute_url("agent.notifications"),
        settings_link=absolute_url("agent.notification_settings"),
    )
