from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kb.models import Translation
from kb.visibility import is_scheduled, is_visible, visible

T = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def tr(status="published", publish_at=None, unpublish_at=None):
    return Translation(status=status, publish_at=publish_at, unpublish_at=unpublish_at)


def test_scheduled_translation_is_hidden_one_second_before_publish_time():
    assert not is_visible(tr(publish_at=T), T - SECOND)
    assert is_scheduled(tr(publish_at=T), T - SECOND)


def test_scheduled_translation_is_visible_at_and_after_publish_time():
    assert is_visible(tr(publish_at=T), T)
    assert is_visible(tr(publish_at=T), T + SECOND)


def test_unpublished_translation_is_hidden_from_unpublish_time():
    t = tr(publish_at=T - timedelta(days=1), unpublish_at=T)
    assert is_visible(t, T - SECOND)
    assert not is_visible(t, T)


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_draft_and_archived_are_never_visible(status):
    assert not is_visible(tr(status=status, publish_at=T - timedelta(days=1)), T)


def test_published_without_dates_is_visible():
    assert is_visible(tr(), T)


def test_sql_rule_agrees_with_python_rule(session, make):
    brand = make.brand(locales=("en",))
    section = make.section(make.category(brand))
    cases = []
    for status in ("draft", "published", "archived"):
        for publish_at in (None, T - SECOND, T, T + SECOND):
            for unpublish_at in (None, T - SECOND, T, T + SECOND):
                a = make.article(
                    section, status=status, publish_at=publish_at or T, unpublish_at=unpublish_at
                )
                t = a.translations[0]
                t.publish_at = publish_at
                cases.append(t)
    session.commit()
    in_sql = set(session.scalars(select(Translation.id).where(visible(T))))
    in_python = {t.id for t in cases if is_visible(t, T)}
    assert in_sql == in_python
    # published, publish_at in (None, T-1s, T) and unpublish_at in (None, T+1s): 3 x 2
    assert len(in_python) == 6
