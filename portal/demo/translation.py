"""The demo's part of translation: the language of the demo customers' messages, detected as it
would have been when they arrived (no provider is set up: the demo has no translation server,
so it shows the detected languages and no Translate buttons)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.desk import languages
from portal.desk.models import TicketMessage


def load(session: Session) -> None:
    undetected = select(TicketMessage).where(
        TicketMessage.from_requester.is_(True),
        TicketMessage.public.is_(True),
        TicketMessage.language.is_(None),
    )
    for message in session.scalars(undetected):
        message.language = languages.detect_language(message.body)
