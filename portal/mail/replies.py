"""Mail that agents' actions send: a public reply goes to the requester and every share."""

from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk import agent_tickets, scheduled_replies
from portal.desk.models import Ticket, TicketMessage
from portal.mail.requesters import mail_about_request


def mail_public_reply(session: Session, ticket: Ticket, message: TicketMessage, agent: User):
    """Queue the reply in the outbox (caller's transaction) for each recipient, each in their
    language with a link that opens for them (portal.mail.requesters)."""
    brand = session.get(Brand, ticket.brand_id)
    for email in agent_tickets.reply_recipients(session, ticket):
        mail_about_request(
            session,
            "agent_reply",
            ticket,
            email,
            brand=brand,
            message=message,
            agent_name=agent.nickname or agent.name,
        )


def send_due_replies(session: Session, now) -> int:
    """Send the scheduled replies that are due (each claimed once, committed with its mail);
    how many went out."""
    sent = 0
    for row_id in scheduled_replies.due_ids(session, now):
        claimed = scheduled_replies.claim(session, row_id, now)
        if claimed is not None:
            ticket, message, agent = claimed
            mail_public_reply(session, ticket, message, agent)
            sent += 1
        session.commit()
    return sent
