"""`flask --app portal admin create`: the first organization admin of a fresh install."""

import re

import pytest
from sqlalchemy import select

from kb.models import Organization
from kb.people import User
from portal.desk.models import OutboxMail
from portal.security.models import AuditEntry

PASSWORD = "a long enough secret"


@pytest.fixture
def create(app):
    """create(*options, input=...) -> the click result of `admin create --email ... --name ...`."""

    def run(*options, email="boss@example.test", name="Bo Ss", input=None):
        args = ["admin", "create", "--email", email, "--name", name, *options]
        with app.app_context():
            return app.test_cli_runner().invoke(args=args, input=input)

    return run


def account(ctx, email="boss@example.test") -> User | None:
    ctx.expire_all()
    return ctx.scalar(select(User).where(User.email == email))


def test_password_from_stdin_makes_an_admin_who_can_sign_in(create, ctx, client):
    result = create("--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = account(ctx)
    assert (user.role, user.org_admin, user.name) == ("staff", True, "Bo Ss")
    organization = ctx.get(Organization, user.organization_id)
    assert organization.name == "Portal"  # a fresh install had none
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/admin/audit").status_code == 200


def test_the_existing_organization_is_used(create, ctx, make):
    existing = make.org()
    ctx.commit()
    assert create("--password-stdin", input=PASSWORD + "\n").exit_code == 0
    assert account(ctx).organization_id == existing.id
    assert len(ctx.scalars(select(Organization)).all()) == 1


def test_the_creation_is_recorded(create, ctx):
    create("--password-stdin", input=PASSWORD + "\n")
    user = account(ctx)
    (entry,) = ctx.scalars(select(AuditEntry).where(AuditEntry.action == "member.created"))
    assert (entry.kind, entry.target, entry.actor_id) == ("audit", f"user:{user.id}", None)
    assert entry.details["role"] == "admin"


def test_prompted_password_is_asked_twice(create, ctx):
    result = create(input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") >= 1 and "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output  # hidden input
    assert account(ctx) is not None


def test_a_short_password_is_refused(create, ctx):
    result = create("--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert "too short: at least 10 characters" in result.output
    assert account(ctx) is None


def test_an_existing_email_is_refused(create, ctx, make):
    make.user(role="customer", email="boss@example.test")
    result = create("--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert "An account with the email boss@example.test exists already." in result.output
    assert account(ctx).role == "customer"
    assert ctx.scalar(select(AuditEntry)) is None


def test_a_bad_email_is_refused(create, ctx):
    result = create("--password-stdin", email="not-an-address", input=PASSWORD + "\n")
    assert result.exit_code == 1 and "is not an email address" in result.output


def test_mail_link_queues_a_set_password_mail_that_works(create, ctx, client):
    result = create("--mail-link")
    assert result.exit_code == 0, result.output
    user = account(ctx)
    assert user.org_admin and user.password_hash is None and user.invited_at is not None
    assert "valid 72 h" in result.output
    (mail,) = ctx.scalars(select(OutboxMail).where(OutboxMail.recipient == user.email))
    link = re.search(r"https?://\S+/account/invitation/\S+", mail.text_body).group(0)
    path = "/" + link.split("/", 3)[3]
    response = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 303
    assert client.get("/admin/audit").status_code == 200


def test_both_password_choices_at_once_are_refused(create, ctx):
    result = create("--password-stdin", "--mail-link", input=PASSWORD + "\n")
    assert result.exit_code == 2 and "Choose one" in result.output
    assert account(ctx) is None
