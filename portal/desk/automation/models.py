"""Automation tables: business hours per brand, and (one section each) the rules, schedules,
notifications, webhooks and translation settings."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from kb.clock import now
from kb.db import Base, UTCDateTime

# --- business hours ----------------------------------------------------------------------------


class BusinessHours(Base):
    """When a brand's desk works, in the brand's time zone (Brand.timezone): opening hours per
    weekday and the days it is closed. A brand without a row works the default week
    (portal.desk.automation.business_hours.DEFAULT_WEEK)."""

    __tablename__ = "business_hours"

    brand_id: Mapped[int] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    # {"0": [["09:00", "18:00"]], ..., "6": []}: Monday is "0"; several spans a day allowed.
    week: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)  # ["2026-12-25", ...]


# --- agent notifications -----------------------------------------------------------------------

# What an agent is told about (portal.desk.automation.agent_alerts): a ticket assigned to them, or
# to their group with nobody assigned; a customer's reply on their ticket; their name in an
# internal note; a note on a ticket they follow; the schedule bot's "notify the group".
NOTICE_KINDS = (
    "assigned_to_me",
    "assigned_to_group",
    "customer_replied",
    "mentioned",
    "note_on_followed",
    "group_alert",
)


class AgentNotice(Base):
    """One thing an agent is told about: counted and listed in /agent until read (`in_app`),
    and mailed in the agent's next digest (`by_mail`, until `mailed_at`), as they chose."""

    __tablename__ = "agent_notices"
    __table_args__ = (
        # The badge: my unread ones; opening a ticket marks its unread ones read.
        Index("ix_agent_notices_unread", "user_id", "read_at", "in_app"),
        # The list, newest first.
        Index("ix_agent_notices_user_created", "user_id", "created_at", "id"),
        # The digest mailer: the few still to mail among all those mailed.
        Index("ix_agent_notices_unmailed", "by_mail", "mailed_at", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # NOTICE_KINDS
    # What it says besides its kind: the start of the note or reply, a group alert's reason.
    text: Mapped[str] = mapped_column(String(500), default="")
    actor_name: Mapped[str | None] = mapped_column(String(200))  # who did it (None: Portal)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    by_mail: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentNoticePreference(Base):
    """An agent's choice for one kind of notice; no row: by mail and in the app."""

    __tablename__ = "agent_notice_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    by_mail: Mapped[bool] = mapped_column(Boolean, default=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)


class TicketFollower(Base):
    """An agent following a ticket (told of its internal notes), or not (`following` False: they
    chose to stop, and replying or being assigned does not make them follow again)."""

    __tablename__ = "ticket_followers"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)  # by the agent, not automatic
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


# --- rules (the rule bot: portal.desk.automation.rules) ----------------------------------------


class AutomationRule(Base):
    """One rule of a brand: when one of its `events` happens to a ticket of the brand and its
    conditions hold ("all" or "any" of them), its actions run, in the brand's order
    (`position`). Conditions: [{"field", "op", "value"}]; actions: [{"type", "value"}]
    (portal.desk.automation.rules says which)."""

    __tablename__ = "automation_rules"
    __table_args__ = (
        UniqueConstraint("brand_id", "name", name="uq_automation_rules_brand_name"),
        Index("ix_automation_rules_brand_position", "brand_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    events: Mapped[list] = mapped_column(JSON, default=list)
    match: Mapped[str] = mapped_column(String(8), default="all")  # "all" or "any"
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    actions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


# --- translation -------------------------------------------------------------------------------


class TranslationSettings(Base):
    """The organization's machine translation provider (one row, id 1; none: no translation
    buttons anywhere). The API key is sealed (portal.security.sealing), never shown back."""

    __tablename__ = "translation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="none")  # none, libretranslate, deepl
    url: Mapped[str] = mapped_column(String(500), default="")  # LibreTranslate's address
    api_key: Mapped[str] = mapped_column(Text, default="")  # sealed
    deepl_free: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageTranslation(Base):
    """A ticket message in another language, kept so a second look costs no provider call.
    `original`: the agent's own text of a reply sent translated (the message's body is what the
    customer got); agents only, never shown to the customer."""

    __tablename__ = "message_translations"
    __table_args__ = (
        Index("ix_message_translations_message", "ticket_message_id", "language", "original"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_message_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE")
    )
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(20))
    original: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


# --- webhooks ----------------------------------------------------------------------------------


class WebhookTarget(Base):
    """Where a brand's ticket events are posted: a Slack, JANDI or signed-JSON URL, or a
    Telegram bot (its sendMessage URL and a chat id). The URL (which holds Slack's, JANDI's or
    Telegram's token) and the signing secret are sealed at rest (portal.security.sealing);
    `host` is the URL's host, kept plain to show in lists."""

    __tablename__ = "webhook_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # slack, telegram, jandi, signed
    url: Mapped[str] = mapped_column(Text)  # sealed
    host: Mapped[str] = mapped_column(String(253))
    chat_id: Mapped[str | None] = mapped_column(String(64))  # telegram
    secret: Mapped[str | None] = mapped_column(Text)  # sealed; signed targets only
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an admin holding "security" everywhere: private and loopback addresses allowed.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One post to a target, queued in the transaction of the event that caused it and sent
    by the scheduler leader (portal.desk.automation.deliveries): the queue and, once tried,
    the target's delivery log. The payload is what is posted; URLs, tokens and secrets are
    read from the target at send time and never stored here."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_target", "target_id", "id"),
        Index("ix_webhook_deliveries_due", "delivered_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("webhook_targets.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status code
    last_error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int | None] = mapped_column(Integer)


# --- schedules (the schedule bot: portal.desk.automation.schedules) ----------------------------


class ScheduleRule(Base):
    """A brand's time-based rule: when a ticket has waited long enough in a state (conditions),
    do something to it (actions), once per wait (ScheduleFiring). Run in `position` order."""

    __tablename__ = "schedule_rules"
    __table_args__ = (
        UniqueConstraint("brand_id", "name"),
        Index("ix_schedule_rules_brand_position", "brand_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"field": "status", "value": ["pending"]}, {"field": "hours_since_agent", "value": 168}]
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    # [{"action": "set_status", "value": "solved"}, {"action": "add_note", "value": "..."}]
    actions: Mapped[list] = mapped_column(JSON, default=list)
    # Count the hours in the brand's business hours (portal.desk.automation.business_hours).
    business_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScheduleFiring(Base):
    """A schedule acted on a ticket for the wait that started at `anchor` (the timestamp its
    hours count from): written in the same transaction as the actions, so a second process or
    a rerun after a crash hits the unique key and skips; a wait that starts again (a new
    anchor) can fire again."""

    __tablename__ = "schedule_firings"
    __table_args__ = (UniqueConstraint("schedule_id", "ticket_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule_rules.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    anchor: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


# --- customer notifications --------------------------------------------------------------------


class CustomerNotification(Base):
    """Whether a brand mails its requesters one kind of notification (received, agent_replied,
    pending_reminder, solved, closed). A brand without a row for a kind keeps the built-in
    default (portal.desk.automation.notifications.DEFAULT_ON)."""

    __tablename__ = "customer_notifications"
    __table_args__ = (UniqueConstraint("brand_id", "kind", name="uq_customer_notifications"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationTemplate(Base):
    """A brand's wording of one kind of notification in one language: a subject and a plain
    text body with placeholders ({{requester_name}}, ...: portal.desk.placeholders). Without
    one, the brand's default language's is used, else the built-in text."""

    __tablename__ = "notification_templates"
    __table_args__ = (
        UniqueConstraint("brand_id", "kind", "locale", name="uq_notification_templates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
