"""Mail that agents' actions send: a public reply goes to the requester and every share."""

from sqlalchemy.orm import Session

from kb.models import Brand, User
from portal.desk import agent_tickets, scheduled_replies
from portal.desk.models import Ticket, TicketMessage
from portal.mail import absolute_url, queue_mail


def mail_public_reply(session: Session, ticket: Ticket, message: TicketMessage, agent: User):
    """Queue the reply in the outbox (caller's transaction) for each recipient, in the ticket's
    language, with a link to the request on the help center."""
    brand = session.get(Brand, ticket.brand_id)
    link = absolute_url(
        "requests.show_request", brand=brand.slug, locale=ticket.locale, ticket_id=ticket.id
    )
    for email in agent_tickets.reply_recipients(session, ticket):
        queue_mail(
            session,
            "agent_reply",
            brand=brand,
            locale=ticket.locale,
            to=email,
            ticket_id=ticket.id,
            ticket=ticket,
            message=message,
            agent_name=agent.nickname or agent.name,
            link=link,
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
