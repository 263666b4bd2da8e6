"""Staff two-factor sign-in: enrolment at /account/security, the code step after the password,
recovery codes, rate limits, the organization's requirement, and the staff sign-in log."""

import itertools
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from kb import clock
from kb.models import Organization
from portal.desk import accounts
from portal.extensions import limiter
from portal.security import two_factor
from portal.security.models import AuditEntry, RecoveryCode, SecuritySettings
from tests.conftest import PASSWORD

_addresses = itertools.count(1)


@pytest.fixture
def client(app):
    """A client from an address of its own, with the rate-limit counters emptied: the code
    limits of one test leave the next alone (the counters live as long as the app, and a
    per-account counter is keyed by a user id the next test may have again)."""
    limiter.reset()
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.18.0.{next(_addresses) % 250 + 1}"
    return client


def code_at(secret: str, at, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(at + timedelta(seconds=30 * steps))


def enrol(ctx, user, at) -> tuple[str, list[str]]:
    """Two-factor sign-in turned on for `user` (the domain's own path): secret, recovery codes."""
    secret, _uri = two_factor.start(ctx, user, at)
    codes = two_factor.confirm(ctx, user, code_at(secret, at), at)
    ctx.commit()
    return secret, codes


def actions(ctx) -> list[str]:
    ctx.expire_all()
    return list(ctx.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def password(client, user, **extra):
    return client.post("/login", data={"email": user.email, "password": PASSWORD, **extra})


# -- the domain ----------------------------------------------------------------------------------


def test_start_gives_a_pending_secret_and_an_otpauth_uri(ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, uri = two_factor.start(ctx, user, frozen_now)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert not two_factor.enabled(ctx, user)  # pending until a code confirms it
    wrong = "000000" if code_at(secret, frozen_now) != "000000" else "111111"
    assert two_factor.confirm(ctx, user, wrong, frozen_now) is None
    assert not two_factor.enabled(ctx, user)


def test_confirm_gives_ten_recovery_codes_kept_only_as_hashes(ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    _secret, codes = enrol(ctx, user, frozen_now)
    assert two_factor.enabled(ctx, user)
    assert len(codes) == len(set(codes)) == 10
    stored = list(
        ctx.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    )
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored)


def test_a_code_is_good_once_and_one_step_either_side(ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, _codes = enrol(ctx, user, frozen_now)
    later = frozen_now + timedelta(minutes=5)
    assert two_factor.verify(ctx, user, code_at(secret, later, -1), later)  # 30 s behind
    assert not two_factor.verify(ctx, user, code_at(secret, later, -1), later)  # used
    assert two_factor.verify(ctx, user, code_at(secret, later, +1), later)  # 30 s ahead
    much_later = later + timedelta(minutes=5)
    assert not two_factor.verify(ctx, user, code_at(secret, much_later, -2), much_later)


def test_required_follows_the_organization_for_staff_only(ctx, make):
    org = Organization(name="Org")
    ctx.add(org)
    ctx.flush()
    agent = make.user(role="agent")
    customer = make.user(role="customer")
    agent.organization_id = customer.organization_id = org.id
    ctx.add(SecuritySettings(organization_id=org.id, require_two_factor=True, ip_allowlist=[]))
    ctx.commit()
    assert two_factor.required(ctx, agent)
    assert not two_factor.required(ctx, customer)


# -- signing in with a code ----------------------------------------------------------------------


def test_staff_with_two_factor_is_not_signed_in_until_the_code(client, ctx, make, frozen_now):
    user = make.user(role="editor", brands=[make.brand()], password=PASSWORD)
    secret, _codes = enrol(ctx, user, frozen_now)
    later = frozen_now + timedelta(minutes=1)
    clock.freeze(later)
    response = password(client, user, next="/admin/kb/schedule")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get("/admin/kb/").status_code == 302  # not signed in yet
    page = client.get("/login/two-factor").get_data(as_text=True)
    assert 'name="code"' in page
    response = client.post("/login/two-factor", data={"code": code_at(secret, later)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/kb/schedule"
    assert client.get("/admin/kb/schedule").status_code == 200


def test_the_session_is_renewed_after_the_code(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, _codes = enrol(ctx, user, frozen_now)
    later = frozen_now + timedelta(minutes=1)
    clock.freeze(later)
    password(client, user)
    with client.session_transaction() as before:
        assert "two_factor_pending" in before and "_user_id" not in before
    client.post("/login/two-factor", data={"code": code_at(secret, later)})
    with client.session_transaction() as after:
        assert "two_factor_pending" not in after
        assert after["_user_id"].startswith(f"{user.id}:")


def test_a_code_used_twice_is_refused(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, _codes = enrol(ctx, user, frozen_now)
    later = frozen_now + timedelta(minutes=1)
    clock.freeze(later)
    password(client, user)
    assert (
        client.post("/login/two-factor", data={"code": code_at(secret, later)}).status_code == 303
    )
    client.post("/logout")
    password(client, user)
    again = client.post("/login/two-factor", data={"code": code_at(secret, later)})
    assert again.status_code == 401
    assert "That code is not right, or was already used." in again.get_data(as_text=True)
    assert client.get("/agent/").status_code == 302


def test_a_recovery_code_signs_in_once(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    _secret, codes = enrol(ctx, user, frozen_now)
    password(client, user)
    typed = codes[3].upper().replace("-", " ")  # as people type them
    assert client.post("/login/two-factor", data={"code": typed}).status_code == 303
    client.post("/logout")
    password(client, user)
    assert client.post("/login/two-factor", data={"code": codes[3]}).status_code == 401
    assert "recovery_code.used" in actions(ctx)


def test_a_wrong_code_says_so_and_keeps_nothing(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    enrol(ctx, user, frozen_now)
    password(client, user)
    response = client.post("/login/two-factor", data={"code": "12345x"})
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "That code is not right" in body and "12345x" not in body
    assert "staff.two_factor_failed" in actions(ctx)


def test_the_code_step_as_an_htmx_fragment(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    enrol(ctx, user, frozen_now)
    password(client, user)
    response = client.post("/login/two-factor", data={"code": "1"}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and "That code is not right" in body
    page = client.post("/login/two-factor", data={"code": "1"}).get_data(as_text=True)
    assert "<html" in page and "That code is not right" in page


def test_a_wrong_enrolment_code_as_an_htmx_fragment(client, make):
    user = make.user(role="agent", password=PASSWORD)
    password(client, user)
    client.post("/account/security/start")
    fragment = client.post(
        "/account/security/confirm", data={"code": "1"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and 'id="two-factor-state"' in fragment
    assert "That code is not right" in fragment


def test_the_code_step_expires_after_five_minutes(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, _codes = enrol(ctx, user, frozen_now)
    password(client, user)
    late = frozen_now + timedelta(minutes=6)
    clock.freeze(late)
    response = client.post("/login/two-factor", data={"code": code_at(secret, late)})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/agent/").status_code == 302


def test_without_a_password_first_the_code_step_sends_to_login(client):
    response = client.get("/login/two-factor")
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_wrong_codes_are_rate_limited(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, _codes = enrol(ctx, user, frozen_now)
    later = frozen_now + timedelta(minutes=1)
    clock.freeze(later)
    password(client, user)
    statuses = [
        client.post("/login/two-factor", data={"code": "000000"}).status_code for _ in range(5)
    ]
    assert statuses == [401] * 5
    limited = client.post("/login/two-factor", data={"code": code_at(secret, later)})
    assert limited.status_code == 429  # even the right code waits
    assert "Too many requests" in limited.get_data(as_text=True)
    assert client.get("/agent/").status_code == 302


def test_a_password_reset_does_not_skip_the_second_factor(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    enrol(ctx, user, frozen_now)
    _user, token = accounts.request_reset(ctx, user.email, now=frozen_now, hours=2)
    ctx.commit()
    new = "a much longer secret"
    response = client.post(f"/account/reset/{token}", data={"password": new, "confirm": new})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get("/agent/").status_code == 302


def test_staff_without_two_factor_sign_in_as_before(client, ctx, make):
    user = make.user(role="agent", brands=[make.brand()], password=PASSWORD)
    assert password(client, user).headers["Location"] == "/agent/"
    assert "staff.sign_in" in actions(ctx)


# -- the organization requires it ----------------------------------------------------------------


def _require(ctx):
    org = Organization(name="Requiring Org")
    ctx.add(org)
    ctx.flush()
    ctx.add(SecuritySettings(organization_id=org.id, require_two_factor=True, ip_allowlist=[]))
    ctx.commit()
    return org


def test_required_two_factor_sends_staff_to_enrol_first(client, ctx, make):
    org = _require(ctx)
    user = make.user(role="agent", password=PASSWORD)
    user.organization_id = org.id
    ctx.commit()
    password(client, user)
    response = client.get("/agent/")
    assert response.status_code == 303 and response.headers["Location"] == "/account/security"
    page = client.get("/account/security").get_data(as_text=True)
    assert "Your organization requires two-factor sign-in: set it up first." in page


# -- enrolment and disabling through the page ----------------------------------------------------


def test_enrol_on_the_page_shows_the_secret_then_the_recovery_codes_once(
    client, ctx, make, frozen_now
):
    user = make.user(role="agent", password=PASSWORD)
    password(client, user)
    assert "Set up two-factor sign-in" in client.get("/account/security").get_data(as_text=True)
    client.post("/account/security/start")
    page = client.get("/account/security").get_data(as_text=True)
    secret = re.search(r'id="two-factor-secret">([A-Z2-7]+)<', page).group(1)
    assert 'src="data:image/svg+xml' in page  # the QR code
    wrong = client.post("/account/security/confirm", data={"code": "000000"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    with client.session_transaction() as before:
        old_id = before["_user_id"]
    response = client.post("/account/security/confirm", data={"code": code_at(secret, frozen_now)})
    assert response.status_code == 303
    with client.session_transaction() as after:
        assert after["_user_id"] != old_id  # renewed
    page = client.get("/account/security").get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", page)
    assert len(codes) == 10
    assert "Two-factor sign-in is on." in page
    assert not re.findall(r"<li><code>", client.get("/account/security").get_data(as_text=True))
    assert "two_factor.enabled" in actions(ctx)


def test_disable_needs_a_current_code(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    secret, codes = enrol(ctx, user, frozen_now)
    password(client, user)
    client.post("/login/two-factor", data={"code": codes[0]})
    refused = client.post("/account/security/disable", data={"code": "000000"})
    assert refused.status_code == 422
    assert two_factor.enabled(ctx, user)
    later = frozen_now + timedelta(minutes=2)
    clock.freeze(later)
    response = client.post("/account/security/disable", data={"code": code_at(secret, later)})
    assert response.status_code == 303
    ctx.expire_all()
    assert not two_factor.enabled(ctx, user)
    assert "two_factor.disabled" in actions(ctx)
    assert ctx.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id)) is None


def test_wrong_codes_on_the_security_page_are_rate_limited(client, ctx, make, frozen_now):
    user = make.user(role="agent", password=PASSWORD)
    password(client, user)
    client.post("/account/security/start")
    for _ in range(5):
        assert client.post("/account/security/confirm", data={"code": "000000"}).status_code == 422
    limited = client.post("/account/security/confirm", data={"code": "000000"})
    assert limited.status_code == 429
    body = limited.get_data(as_text=True)
    assert "Too many requests" in body and 'id="two-factor-secret"' in body  # still enrolling


def test_customers_have_no_security_page(client, make):
    user = make.user(role="customer", password=PASSWORD)
    password(client, user)
    assert client.get("/account/security").headers["Location"] == "/account/settings"


# -- the sign-in log -----------------------------------------------------------------------------


def test_staff_sign_in_out_and_failures_are_logged_with_the_address(client, ctx, make):
    user = make.user(role="editor", password=PASSWORD)
    customer = make.user(role="customer", password=PASSWORD)
    client.post("/login", data={"email": user.email, "password": "wrong"})
    client.post("/login", data={"email": "nobody@example.test", "password": "wrong"})
    # (a customer's failure too: the same work whoever the address is, so no timing tells)
    client.post("/login", data={"email": customer.email, "password": "wrong"})
    password(client, user)
    client.post("/logout")
    ctx.expire_all()
    entries = list(ctx.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.actor_email) for e in entries] == [
        ("staff.sign_in_failed", user.email),
        ("staff.sign_in_failed", "nobody@example.test"),
        ("customer.sign_in_failed", customer.email),
        ("staff.sign_in", user.email),
        ("staff.sign_out", user.email),
    ]
    assert all(e.kind == "system" and e.ip == client.environ_base["REMOTE_ADDR"] for e in entries)


def test_admin_requires_two_factor_for_all_staff(client, ctx, make, login):
    make.brand()  # and its organization
    login("admin")
    assert client.get("/admin/security").status_code == 200
    response = client.post("/admin/security", data={"require_two_factor": "y"})
    assert response.status_code == 303
    ctx.expire_all()
    assert ctx.scalar(select(SecuritySettings.require_two_factor)) is True
    assert "security.two_factor_required" in actions(ctx)
    # The admin, now required to have it, is sent to enrol before any staff page.
    assert client.get("/admin/security").headers["Location"] == "/account/security"


def test_editors_cannot_change_security_settings(client, login):
    login("editor")
    assert client.get("/admin/security").status_code == 403
