"""Translation on the desk: the organization's provider (none, a LibreTranslate server, DeepL),
a customer's message translated into the agent's language with one click, a reply sent in the
requester's language with the agent's own text kept beside it, and the language of every
message from the customer side, detected offline when it arrives.

Translations are kept (MessageTranslation), so a second click, or another agent, reads the
stored text without asking the provider again. A failing provider is a TranslationError whose
`code` the page words for the agent; nothing is sent then.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.people import User
from portal.desk import replies, translators
from portal.desk.automation.models import MessageTranslation, TranslationSettings
from portal.desk.models import Ticket, TicketMessage
from portal.desk.translators import TranslatorError
from portal.security import audit, roles, sealing

SETTINGS_ID = 1
MAX_URL = 500
MAX_KEY = 500
TEST_TEXT = "Hello"
TEST_TARGET = "ko"


class TranslationError(Exception):
    """Nothing was translated: `code` is a translators.TranslatorError code, or not_allowed,
    not_translatable (an agent's message, a note) or no_provider."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


class SettingsError(ValueError):
    """The settings cannot be saved: `field` (provider, url, api_key) and `code`."""

    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


# --- settings ----------------------------------------------------------------------------------


def settings_of(session: Session) -> TranslationSettings:
    """The organization's settings (a new, unsaved "none" row when never saved)."""
    found = session.get(TranslationSettings, SETTINGS_ID)
    if found is None:
        found = TranslationSettings(
            id=SETTINGS_ID, provider=translators.NONE, url="", api_key="", deepl_free=False
        )
    return found


def translator_from(settings: TranslationSettings, secret_key: str | None):
    """The provider these settings name, or None (none chosen, or a key this SECRET_KEY cannot
    open: the admin types it again)."""
    try:
        key = sealing.unseal(settings.api_key, secret_key)
    except sealing.SealError:
        return None
    if settings.provider == translators.LIBRETRANSLATE and settings.url:
        return translators.LibreTranslate(settings.url, key)
    if settings.provider == translators.DEEPL and key:
        return translators.DeepL(key, free=settings.deepl_free, base_url=settings.url or None)
    return None


def provider_of(session: Session, secret_key: str | None):
    """The organization's translator, or None: then no translation button is offered."""
    return translator_from(settings_of(session), secret_key)


def _valid_url(url: str) -> bool:
    scheme, _, rest = url.partition("://")
    return scheme in ("http", "https") and bool(rest.strip("/")) and " " not in url


def save_settings(
    session: Session,
    actor,
    *,
    provider: str,
    url: str,
    api_key: str,
    deepl_free: bool,
    secret_key: str,
    now: datetime,
    ip: str = "",
) -> TranslationSettings:
    """Choose the provider. An empty `api_key` keeps the stored one; a new one is sealed.
    LibreTranslate needs its address; DeepL a key (its address is optional: a DeepL-compatible
    proxy). Recorded as automation.translation_changed (never with the key). SettingsError."""
    url = (url or "").strip()
    api_key = (api_key or "").strip()
    if provider not in translators.PROVIDERS:
        raise SettingsError("provider", "invalid")
    if len(url) > MAX_URL:
        raise SettingsError("url", "too_long")
    if url and not _valid_url(url):
        raise SettingsError("url", "invalid")
    if provider == translators.LIBRETRANSLATE and not url:
        raise SettingsError("url", "required")
    if len(api_key) > MAX_KEY:
        raise SettingsError("api_key", "too_long")
    settings = settings_of(session)
    if provider == translators.DEEPL and not (api_key or settings.api_key):
        raise SettingsError("api_key", "required")
    key_changed = bool(api_key)
    before = settings.provider
    if settings not in session:
        session.add(settings)
    settings.provider = provider
    settings.url = url
    settings.deepl_free = bool(deepl_free)
    if api_key:
        settings.api_key = sealing.seal(api_key, secret_key)
    settings.updated_at = now
    audit.record(
        session,
        "automation.translation_changed",
        now=now,
        actor=actor,
        target="translation",
        target_name=provider,
        ip=ip,
        details={"before": before, "after": provider, "url": url, "key_changed": key_changed},
    )
    session.flush()
    return settings


def try_provider(translator) -> str:
    """ "Hello" in Korean, from `translator` (the settings page's Test). TranslationError."""
    if translator is None:
        raise TranslationError("no_provider")
    try:
        return translator.translate([TEST_TEXT], "en", TEST_TARGET)[0]
    except TranslatorError as error:
        raise TranslationError(error.code, error.detail) from error


# --- translating messages ----------------------------------------------------------------------


def _stored(session: Session, message_id: int, language: str) -> MessageTranslation | None:
    return session.scalars(
        select(MessageTranslation)
        .where(
            MessageTranslation.ticket_message_id == message_id,
            MessageTranslation.language == language,
            MessageTranslation.original.is_(False),
        )
        .order_by(MessageTranslation.id.desc())
    ).first()


def translate_message(
    session: Session, agent, message: TicketMessage, target: str, provider, now: datetime
) -> MessageTranslation:
    """`message` (public, from the customer side) in the `target` language, kept on the ticket:
    a stored translation is given back without asking the provider. Needs tickets.view on the
    ticket's brand. TranslationError."""
    ticket = session.get(Ticket, message.ticket_id)
    if not roles.holds(session, agent, "tickets.view", ticket.brand_id):
        raise TranslationError("not_allowed")
    if not (message.public and message.from_requester):
        raise TranslationError("not_translatable")
    found = _stored(session, message.id, target)
    if found is not None:
        return found
    if provider is None:
        raise TranslationError("no_provider")
    source = message.language or "auto"
    try:
        text = provider.translate([message.body], source, target)[0]
    except TranslatorError as error:
        raise TranslationError(error.code, error.detail) from error
    row = MessageTranslation(
        ticket_message_id=message.id,
        language=target,
        text=text,
        provider=provider.name,
        original=False,
        created_at=now,
        by_id=getattr(agent, "id", None),
    )
    session.add(row)
    session.flush()
    return row


def translated_reply(
    session: Session,
    agent,
    ticket: Ticket,
    body: str,
    *,
    source: str,
    target: str,
    provider,
    status: str | None = None,
    files_key: str | None = None,
    seen_up_to: int | None = None,
    now: datetime,
) -> replies.Reply:
    """A public reply written in `source` and sent in `target` (the requester's language): the
    message and the mail carry the translation, the agent's text is kept beside it for agents
    (a MessageTranslation marked `original`). Sent now (a translated reply is never
    scheduled). Needs tickets.reply. TranslationError (nothing sent), and what replies.reply
    raises."""
    if not roles.holds(session, agent, "tickets.reply", ticket.brand_id):
        raise TranslationError("not_allowed")
    if provider is None:
        raise TranslationError("no_provider")
    if not (body or "").strip():
        # An empty reply is refused by replies.reply, in its words.
        return replies.reply(
            session, agent, ticket, body, public=True, status=status, now=now, delay_seconds=0
        )
    try:
        translated = provider.translate([body], source, target)[0]
    except TranslatorError as error:
        raise TranslationError(error.code, error.detail) from error
    done = replies.reply(
        session,
        agent,
        ticket,
        translated,
        public=True,
        status=status,
        files_key=files_key,
        delay_seconds=0,
        seen_up_to=seen_up_to,
        now=now,
    )
    done.message.language = target
    session.add(
        MessageTranslation(
            ticket_message_id=done.message.id,
            language=source,
            text=body,
            provider=provider.name,
            original=True,
            created_at=now,
            by_id=getattr(agent, "id", None),
        )
    )
    session.flush()
    return done


def requester_language(session: Session, ticket: Ticket) -> str:
    """The language a reply to the requester is translated into: the one their latest message
    was detected in, else their account's or the ticket's ("en" when none is known)."""
    detected = session.scalar(
        select(TicketMessage.language)
        .where(
            TicketMessage.ticket_id == ticket.id,
            TicketMessage.from_requester.is_(True),
            TicketMessage.language.is_not(None),
        )
        .order_by(TicketMessage.created_at.desc(), TicketMessage.id.desc())
        .limit(1)
    )
    if detected:
        return detected
    user = session.get(User, ticket.requester_id) if ticket.requester_id else None
    chosen = (user.locale if user and user.locale else None) or ticket.locale or "en"
    return chosen.replace("_", "-").split("-")[0].lower()


@dataclass
class Shown:
    """What the ticket page shows under one message: the translations kept (by language) and,
    for a reply sent translated, the agent's original text."""

    translations: dict = field(default_factory=dict)  # language -> MessageTranslation
    original: MessageTranslation | None = None


def translations_of(session: Session, ticket: Ticket) -> dict[int, Shown]:
    """message id -> what is kept for it, for the agent's ticket page (never the customer's)."""
    rows = session.scalars(
        select(MessageTranslation)
        .join(TicketMessage, TicketMessage.id == MessageTranslation.ticket_message_id)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(MessageTranslation.id)
    ).all()
    shown: dict[int, Shown] = {}
    for row in rows:
        entry = shown.setdefault(row.ticket_message_id, Shown())
        if row.original:
            entry.original = row
        else:
            entry.translations[row.language] = row
    return shown
