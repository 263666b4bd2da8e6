"""The language a customer's message is written in, detected offline when it arrives (the form's
description, a reply on the web, a mail): py3langid, whose model ships inside the package.

A reaction of the automation (portal.desk.automation.events calls `on_event` first).
"""

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.desk.automation import events
from portal.desk.models import TicketMessage

# Texts shorter than this (letters and digits) stay undetected, and so do those the model is
# less sure of than this.
MIN_DETECT_CHARS = 4
MIN_CONFIDENCE = 0.9
TICKET_CREATED, CUSTOMER_REPLIED = events.TICKET_CREATED, events.CUSTOMER_REPLIED


@cache
def _identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detect_language(text: str | None) -> str | None:
    """The language `text` is written in ("ko", "ja", "sv", "en", ...), offline; None when it
    is too short or the model is unsure."""
    text = (text or "").strip()
    if sum(ch.isalnum() for ch in text) < MIN_DETECT_CHARS:
        return None
    language, confidence = _identifier().classify(text[:5000])
    return language if confidence >= MIN_CONFIDENCE else None


# The events whose messages come from the customer side.
LISTENS_TO = (events.TICKET_CREATED, events.CUSTOMER_REPLIED)


def on_event(session: Session, event) -> None:
    """The automation's reaction: a customer's message (the ticket's first, or a reply) gets
    the language it is written in."""
    if event.kind == CUSTOMER_REPLIED and event.message is not None:
        messages = [event.message]
    elif event.kind == TICKET_CREATED:
        messages = session.scalars(
            select(TicketMessage).where(
                TicketMessage.ticket_id == event.ticket.id,
                TicketMessage.from_requester.is_(True),
                TicketMessage.language.is_(None),
            )
        ).all()
    else:
        return
    for message in messages:
        if message.from_requester and message.public and message.language is None:
            message.language = detect_language(message.body)
