"""Single sign-on at /<brand>/access/jwt: HS256 with the brand's secret, single use, short-lived,
customers only, fresh session, same-site return_to."""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
import warnings
from datetime import timedelta

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import func, select

from kb import clock
from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal import create_app
from portal.desk import sso
from portal.desk.accounts import parse_session_id
from portal.desk.models import SsoTokenUse
from portal.extensions import db
from tests.conftest import _test_config

SECRET_A = secrets.token_urlsafe(32)
SECRET_B = secrets.token_urlsafe(32)


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"), jwt_secret=SECRET_A)


def claims(**overrides) -> dict:
    base = {
        "iat": int(clock.now().timestamp()),
        "jti": uuid.uuid4().hex,
        "email": "mina@example.com",
        "name": "Mina Park",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(secret=SECRET_A, algorithm="HS256", **overrides) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm=algorithm)


def forged(header: dict, payload: dict | str, signature: bytes = b"") -> str:
    """A token put together by hand (any header, any payload text, any signature)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    body = payload if isinstance(payload, str) else json.dumps(payload)
    return ".".join((part(json.dumps(header).encode()), part(body.encode()), part(signature)))


def sso_get(client, tok, slug="acme", **params):
    return client.get(f"/{slug}/access/jwt", query_string={"jwt": tok, **params})


def signed_in_id(client) -> int | None:
    """The id of the account signed in on `client` (its session id names it)."""
    with client.session_transaction() as session:
        parsed = parse_session_id(session.get("_user_id"))
    return parsed[0] if parsed else None


def user_by_email(ctx, email) -> User | None:
    ctx.expire_all()
    return ctx.scalar(select(User).where(User.email == email))


# -- signing in -------------------------------------------------------------------------------


def test_valid_token_signs_in_and_creates_the_customer_and_organization(client, brand, ctx):
    response = sso_get(client, token(organization="Mina Co", locale="ko", external_id=42))
    assert response.status_code == 303
    assert response.headers["Location"] == "/acme/ko/"
    user = user_by_email(ctx, "mina@example.com")
    assert (user.name, user.role, user.locale) == ("Mina Park", "customer", "ko")
    assert user.email_confirmed_at is not None and user.password_hash is None
    org = ctx.scalar(select(CustomerOrganization).where(CustomerOrganization.name == "Mina Co"))
    assert user.customer_org_id == org.id
    assert signed_in_id(client) == user.id
    assert client.get("/acme/en/requests").status_code == 200  # a signed-in customer's page


def test_post_with_form_field_signs_in_without_a_csrf_token(app, brand, ctx, tmp_path_factory):
    config = _test_config(tmp_path_factory, WTF_CSRF_ENABLED=True)
    config["DATABASE_URL"] = app.config["DATABASE_URL"]  # same database, CSRF on
    csrf_app = create_app(config)
    try:
        client = csrf_app.test_client()
        response = client.post("/acme/access/jwt", data={"jwt": token(), "return_to": "/acme/ko/"})
        assert response.status_code == 303
        assert response.headers["Location"] == "/acme/ko/"
        assert signed_in_id(client) == user_by_email(ctx, "mina@example.com").id
    finally:
        with csrf_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_lands_on_the_brand_default_locale_when_the_token_locale_is_not_enabled(client, brand):
    response = sso_get(client, token(locale="sv"))
    assert response.headers["Location"] == "/acme/en/"


def test_return_to_a_same_site_path_is_followed(client, brand):
    response = sso_get(client, token(), return_to="/acme/en/requests?tab=open")
    assert response.headers["Location"] == "/acme/en/requests?tab=open"


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_return_to_another_site_is_ignored(client, brand, target):
    response = sso_get(client, token(), return_to=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/acme/en/"


def test_session_after_sso_is_a_fresh_one(client, brand):
    with client.session_transaction() as session:
        session["planted"] = "by someone before"
    assert sso_get(client, token()).status_code == 303
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_existing_customer_is_updated_not_duplicated(client, brand, make, ctx):
    before = make.user(role="customer", email="mina@example.com", name="Old Name")
    assert sso_get(client, token(email="MINA@example.com ", name="Mina Park")).status_code == 303
    user = user_by_email(ctx, "mina@example.com")
    assert user.id == before.id and user.name == "Mina Park"
    assert ctx.scalar(select(func.count()).select_from(User)) == 1


def test_external_id_follows_a_changed_address(client, brand, ctx):
    sso_get(client, token(external_id="u-7", email="old@example.com"))
    first = user_by_email(ctx, "old@example.com")
    sso_get(client, token(external_id="u-7", email="new@example.com"))
    moved = user_by_email(ctx, "new@example.com")
    assert moved.id == first.id
    assert ctx.scalar(select(func.count()).select_from(User)) == 1


def test_external_id_keeps_the_address_when_another_account_has_the_new_one(
    client, brand, make, ctx
):
    other = make.user(role="customer", email="taken@example.com")
    sso_get(client, token(external_id="u-7", email="mine@example.com"))
    mine = user_by_email(ctx, "mine@example.com")
    response = sso_get(client, token(external_id="u-7", email="taken@example.com"))
    assert response.status_code == 303
    assert signed_in_id(client) == mine.id  # still the external id's account
    assert user_by_email(ctx, "mine@example.com").id == mine.id
    assert user_by_email(ctx, "taken@example.com").id == other.id


def test_the_same_external_id_at_two_brands_is_two_people(client, brand, make, ctx):
    make.brand(slug="other", locales=("en",), jwt_secret=SECRET_B)
    sso_get(client, token(external_id="42", email="a@example.com"))
    sso_get(client, token(SECRET_B, external_id="42", email="b@example.com"), slug="other")
    a, b = user_by_email(ctx, "a@example.com"), user_by_email(ctx, "b@example.com")
    assert a is not None and b is not None and a.id != b.id


def test_existing_organization_is_reused_by_name(client, brand, ctx):
    ctx.add(CustomerOrganization(name="Mina Co"))
    ctx.commit()
    sso_get(client, token(organization="Mina Co"))
    sso_get(client, token(organization="Mina Co", email="kim@example.com"))
    orgs = ctx.scalars(select(CustomerOrganization)).all()
    assert len(orgs) == 1
    assert user_by_email(ctx, "kim@example.com").customer_org_id == orgs[0].id


# -- refusals ---------------------------------------------------------------------------------


def test_second_use_of_the_same_jti_is_refused_as_a_replay(client, app, brand, ctx):
    tok = token()
    assert sso_get(client, tok).status_code == 303
    replay = sso_get(app.test_client(), tok)
    assert replay.status_code == 400
    assert "already been used" in replay.get_data(as_text=True)
    assert ctx.scalar(select(func.count()).select_from(SsoTokenUse)) == 1


def test_a_jti_used_at_one_brand_still_works_at_another(client, brand, make):
    make.brand(slug="other", locales=("en",), jwt_secret=SECRET_B)
    jti = uuid.uuid4().hex
    assert sso_get(client, token(jti=jti)).status_code == 303
    assert sso_get(client, token(SECRET_B, jti=jti), slug="other").status_code == 303


def test_stale_iat_is_refused(client, app, brand):
    max_age = app.config["SSO_MAX_AGE_SECONDS"]
    old = int(clock.now().timestamp()) - max_age - 5
    response = sso_get(client, token(iat=old))
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert signed_in_id(client) is None


def test_iat_more_than_a_minute_ahead_is_refused(client, brand):
    ahead = int(clock.now().timestamp()) + sso.CLOCK_SKEW_SECONDS + 30
    assert sso_get(client, token(iat=ahead)).status_code == 400
    assert signed_in_id(client) is None


def test_iat_a_few_seconds_ahead_is_allowed_for_clock_skew(client, brand):
    ahead = int(clock.now().timestamp()) + 20
    assert sso_get(client, token(iat=ahead)).status_code == 303


def test_passed_exp_is_refused(client, brand):
    past = int(clock.now().timestamp()) - sso.CLOCK_SKEW_SECONDS - 5
    assert sso_get(client, token(exp=past)).status_code == 400
    assert signed_in_id(client) is None


def test_alg_none_is_refused(client, brand):
    tok = forged({"alg": "none", "typ": "JWT"}, claims())
    assert sso_get(client, tok).status_code == 400
    assert signed_in_id(client) is None


def test_hs512_with_the_right_secret_is_refused(client, brand):
    with warnings.catch_warnings():
        # PyJWT asks for 64-byte keys for HS512; ours are 32 bytes, made for HS256.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        tok = token(algorithm="HS512")
    assert sso_get(client, tok).status_code == 400
    assert signed_in_id(client) is None


def test_rs256_looking_token_is_refused(client, brand):
    tok = forged({"alg": "RS256", "typ": "JWT"}, claims(), b"\x01" * 256)
    assert sso_get(client, tok).status_code == 400
    assert signed_in_id(client) is None


def test_token_for_brand_a_is_refused_at_brand_b(client, brand, make):
    make.brand(slug="other", locales=("en",), jwt_secret=SECRET_B)
    response = sso_get(client, token(SECRET_A), slug="other")
    assert response.status_code == 400
    assert signed_in_id(client) is None


def test_brand_without_secret_is_404(client, make):
    make.brand(slug="plain", locales=("en",))
    assert sso_get(client, token(), slug="plain").status_code == 404


def test_unknown_brand_is_404(client):
    assert sso_get(client, token(), slug="nobody").status_code == 404


@pytest.mark.parametrize("claim", ["email", "name", "jti", "iat"])
def test_missing_required_claim_is_refused(client, brand, ctx, claim):
    payload = claims()
    del payload[claim]
    response = sso_get(client, jwt.encode(payload, SECRET_A, algorithm="HS256"))
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
    assert ctx.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("role", ["admin", "editor", "agent"])
def test_staff_email_is_refused_and_not_signed_in(client, brand, make, ctx, role):
    staff = make.user(role=role, email="boss@example.com", name="Boss")
    response = sso_get(client, token(email="boss@example.com", name="Someone Else"))
    assert response.status_code == 403
    assert "password" in response.get_data(as_text=True)
    assert signed_in_id(client) is None
    again = user_by_email(ctx, "boss@example.com")
    assert (again.name, again.role) == ("Boss", "staff") and again.id == staff.id


def test_deactivated_customer_is_refused(client, brand, make, ctx):
    user = make.user(role="customer", email="gone@example.com")
    user.active = False
    ctx.commit()
    assert sso_get(client, token(email="gone@example.com")).status_code == 403
    assert signed_in_id(client) is None


@pytest.mark.parametrize(
    "tok",
    [
        "",
        "garbage",
        "a.b.c",
        "...",
        "é.é.é",
        "x" * (9 * 1024),
        forged({"alg": "HS256"}, "[1, 2]"),
        forged(["not", "a", "header"], {}),
        forged({"alg": ["HS256"]}, {}),
        forged({"alg": "HS256", "crit": ["x"]}, claims()),
    ],
    ids=["empty", "word", "abc", "dots", "non-ascii", "huge", "list", "hdr", "alg-list", "crit"],
)
def test_garbage_token_is_400_not_500(client, brand, tok):
    response = sso_get(client, tok)
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": ["a@example.com"]},
        {"email": "not an address"},
        {"email": "a@example.com\x00"},
        {"name": {"first": "Mina"}},
        {"name": "   "},
        {"name": "x" * 201},
        {"jti": 12345},
        {"jti": "j" * 201},
        {"iat": "yesterday"},
        {"iat": True},
        {"iat": 10**400},
        {"exp": "soon"},
        {"external_id": ["a"]},
        {"external_id": True},
        {"organization": 7},
        {"organization": "Co\nLtd"},
        {"locale": {"x": 1}},
    ],
)
def test_wrong_types_in_claims_are_400_not_500(client, brand, ctx, overrides):
    response = sso_get(client, token(**overrides))
    assert response.status_code == 400
    assert ctx.scalar(select(func.count()).select_from(User)) == 0


def test_nan_iat_is_refused(client, brand):
    payload = json.dumps(claims()).replace('"iat": ', '"iat": NaN, "x": ')
    header = {"alg": "HS256", "typ": "JWT"}
    unsigned = forged(header, payload).rsplit(".", 1)[0]
    sig = hmac.new(SECRET_A.encode(), unsigned.encode(), hashlib.sha256).digest()
    tok = unsigned + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    assert jwt.decode(tok, SECRET_A, algorithms=["HS256"], options={"verify_iat": False})
    assert sso_get(client, tok).status_code == 400


def test_refusal_page_is_in_the_visitors_language(client, brand):
    response = client.get(
        "/acme/access/jwt", query_string={"jwt": "garbage"}, headers={"Accept-Language": "ko"}
    )
    assert response.status_code == 400
    assert '<html lang="ko">' in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


# -- domain, without HTTP ---------------------------------------------------------------------


def test_domain_returns_the_user_and_the_enabled_locale(ctx, brand):
    now = clock.now()
    result = sso.sign_in_with_token(ctx, brand, token(locale="ko"), now, 180)
    assert result.user.email == "mina@example.com" and result.locale == "ko"


def test_domain_raises_a_specific_error_for_each_refusal(ctx, brand):
    now = clock.now()
    with pytest.raises(sso.ExpiredToken):
        sso.sign_in_with_token(ctx, brand, token(), now + timedelta(seconds=181), 180)
    tok = token()
    sso.sign_in_with_token(ctx, brand, tok, now, 180)
    with pytest.raises(sso.ReplayedToken):
        sso.sign_in_with_token(ctx, brand, tok, now, 180)
    with pytest.raises(sso.InvalidToken):
        sso.sign_in_with_token(ctx, brand, token(SECRET_B), now, 180)


def test_domain_treats_a_short_secret_as_not_configured(ctx, make):
    weak = make.brand(slug="weak", locales=("en",), jwt_secret="short")
    with pytest.raises(sso.NotConfigured):
        sso.sign_in_with_token(ctx, weak, token("short" * 8), clock.now(), 180)


# -- CLI --------------------------------------------------------------------------------------


def test_cli_makes_a_new_secret_prints_it_once_and_the_old_one_stops_working(
    app, client, brand, ctx
):
    result = app.test_cli_runner().invoke(args=["brand", "jwt-secret", "acme"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    ctx.expire_all()
    stored = ctx.scalar(select(Brand.jwt_secret).where(Brand.slug == "acme"))
    assert stored == secret != SECRET_A and len(secret) == 43
    assert sso_get(client, token(SECRET_A)).status_code == 400
    assert sso_get(client, token(secret)).status_code == 303


def test_cli_unknown_brand_fails(app):
    result = app.test_cli_runner().invoke(args=["brand", "jwt-secret", "nobody"])
    assert result.exit_code != 0
    assert "No brand" in result.output
