"""Several subscriptions in one organization: the primary is the oldest active one, overage
starts above all active seats together and goes to the primary, kinds never mix, the mail
delivery stays the first one's, and admins hear 14 days ahead of an end."""

from datetime import date

import pytest

from portal.desk.billing.subscriptions import (
    CONCURRENT,
    NAMED,
    SubscriptionError,
    Term,
    check_new,
    ending_soon,
    overage,
    primary,
)

TODAY = date(2027, 6, 15)
CONTINENT = Term(1, seats=10, kind=NAMED, start=date(2026, 3, 1), end=date(2028, 2, 29))
EARTH = Term(2, seats=15, kind=NAMED, start=date(2027, 1, 1), end=date(2027, 12, 31))


def test_the_primary_is_the_oldest_active_subscription():
    assert primary([EARTH, CONTINENT], TODAY) == CONTINENT
    ended = Term(3, seats=5, kind=NAMED, start=date(2025, 1, 1), end=date(2026, 12, 31))
    assert primary([EARTH, CONTINENT, ended], TODAY) == CONTINENT
    assert primary([ended], TODAY) is None


def test_overage_starts_above_all_seats_together_and_goes_to_the_primary():
    assert overage([CONTINENT, EARTH], 25, TODAY) == (CONTINENT, 0)
    assert overage([CONTINENT, EARTH], 27, TODAY) == (CONTINENT, 2)
    # After Earth ends, Continent's 10 seats alone count.
    assert overage([CONTINENT, EARTH], 12, date(2028, 1, 10)) == (CONTINENT, 2)


def test_named_and_concurrent_subscriptions_never_mix():
    new = Term(3, seats=5, kind=CONCURRENT, start=TODAY, end=date(2028, 6, 14))
    with pytest.raises(SubscriptionError) as refused:
        check_new([CONTINENT, EARTH], new, TODAY)
    assert refused.value.code == "kinds_mixed"
    check_new([], new, TODAY)  # the first one chooses


def test_the_mail_delivery_stays_what_the_first_subscription_chose():
    own = Term(3, seats=5, kind=NAMED, start=TODAY, end=date(2028, 6, 14), mail_delivery="own")
    with pytest.raises(SubscriptionError) as refused:
        check_new([CONTINENT, EARTH], own, TODAY)
    assert refused.value.code == "mail_delivery_fixed"


def test_admins_hear_of_an_end_14_days_ahead_when_another_subscription_stays():
    assert ending_soon([CONTINENT, EARTH], date(2027, 12, 16)) == []
    assert ending_soon([CONTINENT, EARTH], date(2027, 12, 17)) == [EARTH]
    # The last subscription ending is not a re-mapping matter.
    assert ending_soon([CONTINENT], date(2028, 2, 20)) == []
