"""The rules between an organization's subscriptions (departments with their own plan, term and
seats): which one is primary, where overage starts and who pays it, whether a new one may be
added, and which end soon. Plain values in, plain values out: the tables come with the pages.
"""

from dataclasses import dataclass
from datetime import date, timedelta

NAMED, CONCURRENT = "named", "concurrent"  # per member, or per peak of signed-in staff a day
ENDING_NOTICE = timedelta(days=14)


class SubscriptionError(ValueError):
    """A subscription that cannot be added: `code` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Term:
    """One subscription as these rules see it: from `start` to `end` (both days included)."""

    id: int
    seats: int
    kind: str
    start: date
    end: date
    mail_delivery: str = "relay"  # the built-in relay, or "own" SMTP server

    def active_on(self, day: date) -> bool:
        return self.start <= day <= self.end


def active(terms: list[Term], day: date) -> list[Term]:
    return [t for t in terms if t.active_on(day)]


def primary(terms: list[Term], day: date) -> Term | None:
    """The oldest active subscription (earliest start, then lowest id): it carries the
    organization-wide usage and the overage."""
    found = active(terms, day)
    return min(found, key=lambda t: (t.start, t.id)) if found else None


def overage(terms: list[Term], used: int, day: date) -> tuple[Term | None, int]:
    """(the primary, how many members or concurrent staff above all active seats together):
    10 seats and 15 seats make overage start above 25, billed to the primary alone."""
    seats = sum(t.seats for t in active(terms, day))
    return primary(terms, day), max(0, used - seats)


def check_new(terms: list[Term], new: Term, day: date) -> None:
    """SubscriptionError when `new` cannot join the organization's subscriptions: they are all
    named or all concurrent, and keep the mail delivery the first one fixed."""
    if new.end < new.start:
        raise SubscriptionError("ends_before_start")
    if new.seats < 1:
        raise SubscriptionError("no_seats")
    others = [t for t in terms if t.end >= day]
    if any(t.kind != new.kind for t in others):
        raise SubscriptionError("kinds_mixed")
    first = min(terms, key=lambda t: (t.start, t.id), default=None)
    if first is not None and first.mail_delivery != new.mail_delivery:
        raise SubscriptionError("mail_delivery_fixed")


def ending_soon(terms: list[Term], day: date) -> list[Term]:
    """Active subscriptions ending within ENDING_NOTICE while another stays active after them:
    admins are warned, and their members need mapping to one that stays."""
    found = []
    for term in active(terms, day):
        if term.end - day > ENDING_NOTICE:
            continue
        after = term.end + timedelta(days=1)
        if any(o.id != term.id and o.active_on(after) for o in terms):
            found.append(term)
    return found
