"""The organization API key: shown once, stored hashed, rotation ends the old key at once,
verify() refuses malformed keys and answers the organization for the current one."""

import hashlib
from datetime import timedelta

from sqlalchemy import select

from portal.security import api_keys
from portal.security.models import AuditEntry, OrganizationApiKey


def test_a_new_key_is_stored_only_as_its_hash_and_prefix(ctx, make, frozen_now):
    org = make.org()
    admin = make.user(role="admin")
    plaintext = api_keys.create_or_rotate(ctx, org, admin, frozen_now, "203.0.113.9")
    ctx.commit()
    assert plaintext.startswith("pk_") and len(plaintext) == 46
    row = ctx.scalars(select(OrganizationApiKey)).one()
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert row.prefix == plaintext[:9]
    assert plaintext not in (row.key_hash, row.prefix)
    assert (row.created_at, row.created_by_id, row.last_used_at) == (frozen_now, admin.id, None)


def test_verify_answers_the_organization_of_the_current_key(ctx, make, frozen_now):
    org = make.org()
    admin = make.user(role="admin")
    plaintext = api_keys.create_or_rotate(ctx, org, admin, frozen_now)
    ctx.commit()
    assert api_keys.verify(ctx, plaintext).id == org.id
    later = frozen_now + timedelta(minutes=5)
    assert api_keys.verify(ctx, plaintext, now=later).id == org.id
    assert api_keys.key_of(ctx, org).last_used_at == later


def test_rotating_ends_the_old_key_at_once(ctx, make, frozen_now):
    org = make.org()
    admin = make.user(role="admin")
    old = api_keys.create_or_rotate(ctx, org, admin, frozen_now, "203.0.113.9")
    ctx.commit()
    new = api_keys.create_or_rotate(ctx, org, admin, frozen_now, "203.0.113.9")
    ctx.commit()
    assert new != old
    assert api_keys.verify(ctx, old) is None
    assert api_keys.verify(ctx, new).id == org.id
    assert len(ctx.scalars(select(OrganizationApiKey)).all()) == 1
    entries = ctx.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.kind, e.details["event"], e.ip) for e in entries] == [
        ("api_key.rotated", "system", "created", "203.0.113.9"),
        ("api_key.rotated", "system", "rotated", "203.0.113.9"),
    ]
    assert entries[1].details["prefix"] == new[:9]
    assert all(old not in str(e.details) and new not in str(e.details) for e in entries)


def test_verify_refuses_empty_malformed_and_unknown_keys(ctx, make, frozen_now):
    org = make.org()
    plaintext = api_keys.create_or_rotate(ctx, org, make.user(role="admin"), frozen_now)
    ctx.commit()
    for presented in (None, "", "pk_", plaintext[:-1], plaintext + "x", " " + plaintext, 42):
        assert api_keys.verify(ctx, presented) is None, presented
    assert api_keys.verify(ctx, "pk_" + "A" * 43) is None  # well formed, not a key
    assert api_keys.verify(ctx, plaintext.replace("pk_", "sk_", 1)) is None
