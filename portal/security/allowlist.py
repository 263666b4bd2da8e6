"""The organization's IP allowlist for staff: parsing what an admin types (addresses and CIDR
ranges, IPv4 and IPv6), whether an address is in it, and the change with its lock-out guard.

An empty list lets staff in from anywhere. The list applies to staff sign-in and staff pages;
customers are never restricted. Addresses are compared with the `ipaddress` module only (no
string prefixes), and an IPv4 address a dual-stack socket reports as ::ffff:a.b.c.d counts as
a.b.c.d.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.people import User
from portal.security import audit
from portal.security.models import SecuritySettings
from portal.security.two_factor import organization_id_clause

MAX_ENTRIES = 200
MAX_LINE = 64  # the longest IPv6 range with its prefix is 43 characters

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class LineError:
    """One line that is not an address or range: its number (from 1), what was typed there,
    a code for the message, and for "host_bits" the range that was probably meant."""

    line: int
    text: str
    code: str  # invalid, host_bits, too_long, too_many
    suggestion: str = ""


class LockOut(ValueError):
    """The list would exclude the address of the admin making the change."""

    def __init__(self, address: str):
        super().__init__(address)
        self.address = address


def parse(text: str) -> tuple[list[str], list[LineError]]:
    """The entries of `text`, one per line (blank lines skipped, duplicates once), each written
    the one way `ipaddress` writes it ("2001:DB8::/32" -> "2001:db8::/32", "10.0.0.1/32" ->
    "10.0.0.1"); and an error for every line that is not an address or a CIDR range."""
    entries: list[str] = []
    errors: list[LineError] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if len(line) > MAX_LINE:
            errors.append(LineError(number, line[:MAX_LINE] + "…", "too_long"))
            continue
        try:
            network = ipaddress.ip_network(line, strict=True)
        except ValueError:
            errors.append(_not_a_network(number, line))
            continue
        entry = _written(network)
        if entry not in entries:
            entries.append(entry)
    if len(entries) > MAX_ENTRIES:
        errors.append(LineError(0, "", "too_many"))
    return entries, errors


def _not_a_network(number: int, line: str) -> LineError:
    """Why a line is not a network: a range with bits set after its prefix ("10.0.0.1/8",
    most likely meaning 10.0.0.0/8), or not an address at all."""
    try:
        meant = ipaddress.ip_network(line, strict=False)
    except ValueError:
        return LineError(number, line, "invalid")
    return LineError(number, line, "host_bits", _written(meant))


def _written(network: Network) -> str:
    """A single address without its /32 or /128; a range as prefix/length."""
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def contains(entries: list[str], address: str) -> bool:
    """Whether `address` is one of the entries or inside one of their ranges. An address that
    is not one (empty, a host name) is in no list."""
    ip = _address(address)
    if ip is None:
        return False
    for entry in entries or ():
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:  # not written by parse(): never matches
            continue
        if network.version == ip.version and ip in network:
            return True
    return False


def admits(entries: list[str], address: str) -> bool:
    """Whether staff may work from `address`: anywhere while the list is empty."""
    return not entries or contains(entries, address)


def entries_for(session: Session, user: User) -> list[str]:
    """The allowlist that applies to `user`: their organization's for staff (one query: staff
    pages ask it on every request), none for customers."""
    if user.role != "staff":
        return []
    stored = session.scalar(
        select(SecuritySettings.ip_allowlist).where(
            SecuritySettings.organization_id == organization_id_clause(user)
        )
    )
    return list(stored or [])


def staff_may_enter(session: Session, user: User, address: str) -> bool:
    """Whether `user` may sign in and open staff pages from `address`."""
    return admits(entries_for(session, user), address)


def entries_of(session: Session, organization_id: int | None) -> list[str]:
    """The organization's allowlist as stored (empty: no restriction)."""
    settings = session.get(SecuritySettings, organization_id) if organization_id else None
    return list(settings.ip_allowlist or []) if settings is not None else []


def change(
    session: Session,
    actor: User,
    organization_id: int,
    entries: list[str],
    now: datetime,
    ip: str,
) -> bool:
    """Replace the organization's allowlist with `entries` (as parse() gives them), recorded
    with before and after; False when nothing changed. LockOut when the new list would not
    admit `ip`, the address of the admin making the change: they would be shut out at once."""
    if not admits(entries, ip):
        raise LockOut(ip)
    settings = session.get(SecuritySettings, organization_id)
    if settings is None:
        settings = SecuritySettings(organization_id=organization_id, ip_allowlist=[])
        session.add(settings)
    before = list(settings.ip_allowlist or [])
    if before == list(entries):
        return False
    settings.ip_allowlist = list(entries)  # a new list: JSON columns see assignment only
    audit.record(
        session,
        "security.ip_allowlist_changed",
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"organization:{organization_id}",
        ip=ip,
        details={"before": before, "after": list(entries)},
    )
    session.flush()
    return True
