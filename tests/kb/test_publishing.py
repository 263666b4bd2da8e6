"""The scheduler lease and the publish/unpublish side effects, each run once, at given times."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kb import publishing
from kb.models import Brand, PublishEvent, SchedulerLease

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def lease(session) -> SchedulerLease:
    session.expire_all()
    return session.get(SchedulerLease, publishing.LEASE)


def take(session, holder, now):
    return publishing.acquire_lease(session, publishing.LEASE, holder, now, TTL)


# --- the lease ------------------------------------------------------------------------------


def test_first_bidder_takes_the_free_lease(session):
    assert take(session, "a", T0)
    row = lease(session)
    assert (row.holder, row.expires_at, row.acquired_at) == ("a", T0 + TTL, T0)


def test_holder_renews_its_own_lease_and_keeps_its_start_time(session):
    take(session, "a", T0)
    assert take(session, "a", T0 + timedelta(seconds=10))
    row = lease(session)
    assert row.expires_at == T0 + timedelta(seconds=40)
    assert row.acquired_at == T0


def test_another_bidder_is_refused_while_the_lease_is_live(session):
    take(session, "a", T0)
    assert not take(session, "b", T0 + TTL - timedelta(seconds=1))
    assert not take(session, "b", T0 + TTL)  # expiry is exclusive of its own instant
    assert lease(session).holder == "a"


def test_another_bidder_takes_over_an_expired_lease(session):
    take(session, "a", T0)
    later = T0 + TTL + timedelta(seconds=1)
    assert take(session, "b", later)
    row = lease(session)
    assert (row.holder, row.expires_at, row.acquired_at) == ("b", later + TTL, later)
    assert not take(session, "a", later + timedelta(seconds=1))


def test_released_lease_is_free_at_once(session):
    take(session, "a", T0)
    publishing.release_lease(session, publishing.LEASE, "a")
    assert publishing.lease_holder(session, publishing.LEASE, T0) is None
    assert take(session, "b", T0 + timedelta(seconds=1))


def test_only_the_holder_can_release_the_lease(session):
    take(session, "a", T0)
    publishing.release_lease(session, publishing.LEASE, "b")
    assert publishing.lease_holder(session, publishing.LEASE, T0) == "a"


def test_an_expired_lease_has_no_holder(session):
    take(session, "a", T0)
    assert publishing.lease_holder(session, publishing.LEASE, T0 + TTL) == "a"
    assert publishing.lease_holder(session, publishing.LEASE, T0 + TTL * 2) is None


# --- due events and run_due -----------------------------------------------------------------


@pytest.fixture
def section(make):
    return make.section(make.category(make.brand(locales=("en",))))


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, _session, event):
        self.events.append(event)


def events_in_db(session, translation_id):
    return session.scalar(
        select(func.count())
        .select_from(PublishEvent)
        .where(PublishEvent.translation_id == translation_id)
    )


def test_publish_and_unpublish_moments_are_due_events(session, make, section):
    article = make.article(
        section,
        {"en": "Sale"},
        publish_at=T0 + timedelta(minutes=1),
        unpublish_at=T0 + timedelta(minutes=5),
    )
    t = article.translations[0]
    events = publishing.due_events(session, T0, T0 + timedelta(minutes=5))
    assert [(e.translation_id, e.action, e.due_at) for e in events] == [
        (t.id, "publish", T0 + timedelta(minutes=1)),
        (t.id, "unpublish", T0 + timedelta(minutes=5)),
    ]
    assert events[0].brand_id == section.brand_id
    assert (
        publishing.due_events(session, T0 + timedelta(minutes=1), T0 + timedelta(minutes=4)) == []
    )


def test_draft_translations_have_no_due_events(session, make, section):
    make.article(section, {"en": "Draft"}, status="draft", publish_at=T0 + timedelta(minutes=1))
    assert publishing.due_events(session, T0, T0 + timedelta(hours=1)) == []


def test_run_due_runs_each_event_once_across_runs_and_holders(session, make, section):
    article = make.article(section, {"en": "Launch"}, publish_at=T0 + timedelta(minutes=1))
    recorder = Recorder()
    at = T0 + timedelta(minutes=1)
    first = publishing.run_due(session, at, "a", [recorder])
    again = publishing.run_due(session, at + timedelta(seconds=30), "a", [recorder])
    other = publishing.run_due(session, at + timedelta(minutes=1), "b", [recorder])
    assert [e.action for e in first] == ["publish"]
    assert again == [] and other == []
    assert len(recorder.events) == 1
    assert events_in_db(session, article.translations[0].id) == 1


def test_an_event_is_not_run_before_its_time(session, make, section):
    make.article(section, {"en": "Launch"}, publish_at=T0 + timedelta(minutes=1))
    recorder = Recorder()
    at = T0 + timedelta(minutes=1)
    assert publishing.run_due(session, at - timedelta(seconds=1), "a", [recorder]) == []
    assert len(publishing.run_due(session, at, "a", [recorder])) == 1


def test_an_event_claimed_by_another_process_meanwhile_is_skipped(
    session, make, section, monkeypatch
):
    make.article(section, {"en": "Launch"}, publish_at=T0 + timedelta(minutes=1))
    at = T0 + timedelta(minutes=2)
    # Both processes saw the event as pending; the first one commits its claim first.
    seen = publishing.pending_events(session, at - publishing.LOOKBACK, at)
    publishing.run_due(session, at, "a", [])
    monkeypatch.setattr(publishing, "pending_events", lambda *_args: seen)
    recorder = Recorder()
    assert publishing.run_due(session, at, "b", [recorder]) == []
    assert recorder.events == []
    assert session.scalar(select(PublishEvent.holder)) == "a"


def test_an_event_missed_while_down_is_handled_at_the_next_run(session, make, section):
    article = make.article(section, {"en": "Launch"}, publish_at=T0 + timedelta(minutes=1))
    recorder = Recorder()
    assert publishing.run_due(session, T0, "a", [recorder]) == []
    # No process ran for three hours; the next run catches up.
    handled = publishing.run_due(session, T0 + timedelta(hours=3), "b", [recorder])
    assert [(e.translation_id, e.due_at) for e in handled] == [
        (article.translations[0].id, T0 + timedelta(minutes=1))
    ]
    assert len(recorder.events) == 1


def test_events_older_than_the_lookback_are_not_replayed(session, make, section):
    make.article(section, {"en": "Old"}, publish_at=T0)
    handled = publishing.run_due(session, T0 + timedelta(days=8), "a", [Recorder()])
    assert handled == []


def test_the_default_handler_bumps_the_brand_content_version(session, make, section):
    make.article(section, {"en": "Launch"}, publish_at=T0 + timedelta(minutes=1))
    brand_id = section.brand_id
    before = session.scalar(select(Brand.content_version).where(Brand.id == brand_id))
    publishing.run_due(session, T0 + timedelta(minutes=1), "a", publishing.DEFAULT_HANDLERS)
    session.expire_all()
    after = session.scalar(select(Brand.content_version).where(Brand.id == brand_id))
    assert after == before + 1


def test_a_failing_handler_is_logged_and_the_others_still_run_once(session, make, section, caplog):
    make.article(section, {"en": "Launch"}, publish_at=T0 + timedelta(minutes=1))

    def broken(_session, _event):
        raise RuntimeError("index unavailable")

    recorder = Recorder()
    at = T0 + timedelta(minutes=1)
    with caplog.at_level(logging.ERROR, logger="kb.publishing"):
        handled = publishing.run_due(session, at, "a", [broken, recorder])
    assert len(handled) == 1 and len(recorder.events) == 1
    assert "broken failed" in caplog.text
    assert publishing.run_due(session, at + timedelta(minutes=1), "a", [broken, recorder]) == []


def test_next_due_is_the_soonest_publish_or_unpublish_moment(session, make, section):
    assert publishing.next_due(session, T0) is None
    make.article(
        section,
        {"en": "Sale"},
        publish_at=T0 + timedelta(minutes=10),
        unpublish_at=T0 + timedelta(hours=1),
    )
    make.article(section, {"en": "Draft"}, status="draft", publish_at=T0 + timedelta(minutes=1))
    assert publishing.next_due(session, T0) == T0 + timedelta(minutes=10)
    assert publishing.next_due(session, T0 + timedelta(minutes=10)) == T0 + timedelta(hours=1)
    assert publishing.next_due(session, T0 + timedelta(hours=1)) is None
