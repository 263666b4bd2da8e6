"""The staff IP allowlist's domain: parsing what an admin types, membership (IPv4 and IPv6),
and the change with its lock-out guard and its system-log entry."""

import pytest
from sqlalchemy import select

from portal.security import allowlist
from portal.security.models import AuditEntry, SecuritySettings


def test_parse_keeps_addresses_and_ranges_written_one_way():
    entries, errors = allowlist.parse(
        " 203.0.113.7 \n\n198.51.100.0/24\n2001:DB8::/32\n10.0.0.1/32\n203.0.113.7\n::1\n"
    )
    assert errors == []
    assert entries == ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32", "10.0.0.1", "::1"]


def test_parse_names_every_bad_line_with_its_number():
    entries, errors = allowlist.parse(
        "203.0.113.7\nexample.com\n10.0.0.1/8\n300.1.2.3\n192.168.0.0/33\n" + "1" * 80
    )
    assert entries == ["203.0.113.7"]
    assert [(e.line, e.code) for e in errors] == [
        (2, "invalid"),
        (3, "host_bits"),
        (4, "invalid"),
        (5, "invalid"),
        (6, "too_long"),
    ]
    assert errors[1].suggestion == "10.0.0.0/8"
    assert errors[0].text == "example.com"


def test_parse_refuses_more_than_the_limit():
    text = "\n".join(f"10.0.{n // 256}.{n % 256}" for n in range(allowlist.MAX_ENTRIES + 1))
    _entries, errors = allowlist.parse(text)
    assert [e.code for e in errors] == ["too_many"]


@pytest.mark.parametrize(
    "address, expected",
    [
        ("203.0.113.7", True),
        ("198.51.100.200", True),
        ("198.51.101.1", False),
        ("2001:db8:1::5", True),
        ("2001:db9::1", False),
        ("::ffff:198.51.100.9", True),  # an IPv4 client on a dual-stack socket
        ("", False),
        ("not-an-address", False),
    ],
)
def test_contains_checks_addresses_and_ranges(address, expected):
    entries = ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"]
    assert allowlist.contains(entries, address) is expected


def test_an_empty_list_admits_every_address():
    assert allowlist.admits([], "192.0.2.1")
    assert not allowlist.admits(["203.0.113.7"], "192.0.2.1")


def test_change_records_before_and_after(ctx, make, frozen_now):
    org = make.org()
    admin = make.user(role="admin")
    assert allowlist.change(ctx, admin, org.id, ["203.0.113.0/24"], frozen_now, "203.0.113.9")
    assert allowlist.change(ctx, admin, org.id, ["203.0.113.0/24"], frozen_now, "203.0.113.9") is (
        False
    )
    assert allowlist.change(ctx, admin, org.id, [], frozen_now, "203.0.113.9")
    ctx.commit()
    entries = ctx.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.kind, e.ip, e.details) for e in entries] == [
        (
            "security.ip_allowlist_changed",
            "system",
            "203.0.113.9",
            {"before": [], "after": ["203.0.113.0/24"]},
        ),
        (
            "security.ip_allowlist_changed",
            "system",
            "203.0.113.9",
            {"before": ["203.0.113.0/24"], "after": []},
        ),
    ]


def test_a_list_without_the_admins_own_address_is_refused(ctx, make, frozen_now):
    org = make.org()
    admin = make.user(role="admin")
    with pytest.raises(allowlist.LockOut) as refused:
        allowlist.change(ctx, admin, org.id, ["198.51.100.0/24"], frozen_now, "203.0.113.9")
    assert refused.value.address == "203.0.113.9"
    ctx.rollback()
    assert ctx.scalars(select(SecuritySettings)).all() == []
    assert ctx.scalars(select(AuditEntry)).all() == []


def test_the_list_applies_to_staff_not_to_customers(ctx, make, frozen_now):
    org = make.org()
    admin = make.user(role="admin")
    allowlist.change(ctx, admin, org.id, ["203.0.113.0/24"], frozen_now, "203.0.113.9")
    ctx.commit()
    agent = make.user(role="agent")
    customer = make.user(role="customer")
    assert not allowlist.staff_may_enter(ctx, agent, "192.0.2.1")
    assert allowlist.staff_may_enter(ctx, agent, "203.0.113.50")
    assert allowlist.staff_may_enter(ctx, customer, "192.0.2.1")
