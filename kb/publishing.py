"""What happens at publish and unpublish time: due events, each run once, under one leader.

Visibility never waits for this module (kb.visibility decides at read time). Here live only the
side effects of a scheduled moment (caches, search, notifications), and the lease that picks
the one process allowed to run them. Both work on SQLite and PostgreSQL alike.
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.db import UTCDateTime
from kb.models import Article, Brand, PublishEvent, SchedulerLease, Translation

log = logging.getLogger(__name__)

LEASE = "publishing"
# How far back a run looks for events nobody handled: covers a scheduler down for a week.
LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class DueEvent:
    """A translation appearing (publish) or disappearing (unpublish) at `due_at`."""

    translation_id: int
    article_id: int
    brand_id: int
    section_id: int
    locale: str
    action: str  # publish or unpublish
    due_at: datetime


Handler = Callable[[Session, DueEvent], None]


# --- the lease ------------------------------------------------------------------------------


def acquire_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease when free, expired or already ours, and hold it until now + ttl.

    One conditional UPDATE decides, so two processes can never both succeed; the very first
    bid INSERTs the row and the primary key turns away a second one. Commits.
    """
    taken = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(
            holder=holder,
            expires_at=now + ttl,
            # SET expressions see the old row: acquired_at changes only with the holder.
            acquired_at=case(
                (SchedulerLease.holder == holder, SchedulerLease.acquired_at),
                else_=literal(now, UTCDateTime),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        session.commit()
        return True
    if session.scalar(select(exists().where(SchedulerLease.name == name))):
        session.rollback()
        return False
    try:
        session.execute(
            insert(SchedulerLease).values(
                name=name, holder=holder, expires_at=now + ttl, acquired_at=now
            )
        )
        session.commit()
    except IntegrityError:
        session.rollback()  # another process inserted it first
        return False
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up at once (only if we hold it), so another process need not wait. Commits."""
    session.execute(
        delete(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def lease_holder(session: Session, name: str, now: datetime) -> str | None:
    """Who holds the lease at `now`, or None when it is free or expired."""
    return session.scalar(
        select(SchedulerLease.holder).where(
            SchedulerLease.name == name, SchedulerLease.expires_at >= now
        )
    )


# --- due events -----------------------------------------------------------------------------


def _events(session: Session, since: datetime, until: datetime, unrecorded: bool):
    found = []
    for action, column in (
        ("publish", Translation.publish_at),
        ("unpublish", Translation.unpublish_at),
    ):
        stmt = (
            select(
                Translation.id,
                Translation.article_id,
                Article.brand_id,
                Article.section_id,
                Translation.locale,
                column,
            )
            .join(Article, Article.id == Translation.article_id)
            .where(Translation.status == "published", column > since, column <= until)
        )
        if unrecorded:
            stmt = stmt.where(
                ~exists().where(
                    PublishEvent.translation_id == Translation.id,
                    PublishEvent.action == action,
                    PublishEvent.due_at == column,
                )
            )
        found += [
            DueEvent(t, a, b, s, loc, action, at) for t, a, b, s, loc, at in session.execute(stmt)
        ]
    return sorted(found, key=lambda e: (e.due_at, e.translation_id, e.action))


def due_events(session: Session, since: datetime, until: datetime) -> list[DueEvent]:
    """Publish and unpublish moments of published translations in (since, until], in time order."""
    return _events(session, since, until, unrecorded=False)


def pending_events(session: Session, since: datetime, until: datetime) -> list[DueEvent]:
    """The due events in (since, until] whose side effects have not run yet."""
    return _events(session, since, until, unrecorded=True)


def next_due(session: Session, now: datetime) -> datetime | None:
    """The next publish or unpublish moment after `now`, over all brands."""
    soonest = [
        select(func.min(column))
        .where(Translation.status == "published", column > now)
        .scalar_subquery()
        for column in (Translation.publish_at, Translation.unpublish_at)
    ]
    found = [t for t in session.execute(select(*soonest)).one() if t is not None]
    return min(found) if found else None


def run_due(
    session: Session,
    now: datetime,
    holder: str,
    handlers: Iterable[Handler],
    lookback: timedelta = LOOKBACK,
) -> list[DueEvent]:
    """Run the handlers once for each event due in (now - lookback, now] and not run before.

    The PublishEvent row is committed before any handler runs: its unique key lets only one
    process (or one run) claim an event, so side effects happen at most once even when two
    schedulers race. A failing handler is logged; it does not stop the others.
    """
    handlers = list(handlers)
    handled = []
    for event in pending_events(session, now - lookback, now):
        session.add(
            PublishEvent(
                translation_id=event.translation_id,
                action=event.action,
                due_at=event.due_at,
                done_at=now,
                holder=holder,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # claimed meanwhile by another run, or the translation is gone
            continue
        for handler in handlers:
            try:
                handler(session, event)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("%s failed for %s", getattr(handler, "__name__", handler), event)
        handled.append(event)
    return handled


# --- the default handlers -------------------------------------------------------------------


def bump_content_version(session: Session, event: DueEvent) -> None:
    """Caches keyed on the brand's content version (rendered pages, lists) start afresh."""
    session.execute(
        update(Brand)
        .where(Brand.id == event.brand_id)
        .values(content_version=Brand.content_version + 1)
        .execution_options(synchronize_session=False)
    )


def log_event(_session: Session, event: DueEvent) -> None:
    log.info(
        "%s: translation %s (%s) of article %s, brand %s, due %s",
        event.action,
        event.translation_id,
        event.locale,
        event.article_id,
        event.brand_id,
        event.due_at.isoformat(),
    )


DEFAULT_HANDLERS: Sequence[Handler] = (bump_content_version, log_event)
