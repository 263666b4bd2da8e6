"""flask commands: demo, admin, brand, scheduler, automation, mail."""

import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from sqlalchemy import select

from kb import clock, publishing
from kb.models import Brand, Organization
from kb.people import User
from portal import config, jobs
from portal.desk import accounts, sso
from portal.desk.automation import schedules
from portal.extensions import db
from portal.mail import commands as mail_commands
from portal.security import audit, members, roles


def register(app: Flask) -> None:
    mail_commands.register_cli(app)

    @app.cli.command("demo")
    def demo() -> None:
        """Load the demo brands, articles and accounts (password portal-demo)."""
        from portal import demo as demo_content

        loaded = demo_content.load(db.session)
        click.echo(f"Demo brands loaded: {', '.join(loaded) or 'already present'}")
        click.echo(f"Demo logins (password: {demo_content.DEMO_PASSWORD}):")
        for email, _name, role in demo_content.DEMO_ACCOUNTS:
            click.echo(f"  {role.replace('_', ' '):<11} {email}")
        click.echo("Demo support addresses (mail to them through 127.0.0.1:2525):")
        for address in demo_content.demo_mail.addresses():
            click.echo(f"  {address}")

    @app.cli.group("admin")
    def admin_group() -> None:
        """Organization admins, for a fresh install set up without SQL."""

    @admin_group.command("create")
    @click.option("--email", required=True, help="The admin's email (their login).")
    @click.option("--name", required=True, help="The admin's name.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
    @click.option("--mail-link", is_flag=True, help="Mail a set-password link instead.")
    def admin_create(email: str, name: str, password_stdin: bool, mail_link: bool) -> None:
        """Make an organization admin: prompts for a password twice, reads it from stdin, or
        mails a set-password link. Refuses an email that has an account already."""
        if password_stdin and mail_link:
            raise click.UsageError("Choose one: --password-stdin or --mail-link.")
        email, name = accounts.normalize_email(email), " ".join(name.split())
        local, at, domain = email.rpartition("@")
        if not (local and at and "." in domain) or len(email) > 254:
            raise click.ClickException(f"{email!r} is not an email address.")
        if not name or len(name) > 200:
            raise click.ClickException("Give a name of 1 to 200 characters.")
        if accounts.user_by_email(db.session, email) is not None:
            raise click.ClickException(f"An account with the email {email} exists already.")
        password = None
        if not mail_link:
            password = _new_password(email, password_stdin)
        user = _create_admin(email, name, password)
        if mail_link:
            _mail_invitation(user)
            hours = members.INVITATION_HOURS
            click.echo(f"Admin {email} invited; a set-password link (valid {hours} h) is queued.")
        else:
            click.echo(f"Admin {email} created; they can sign in at /login.")

    @app.cli.group("brand")
    def brand_group() -> None:
        """Brand settings that are not in the admin pages."""

    @brand_group.command("jwt-secret")
    @click.argument("slug")
    def brand_jwt_secret(slug: str) -> None:
        """Make a new single sign-on secret for the brand and print it once (the old one stops
        working at once)."""
        brand = db.session.scalar(select(Brand).where(Brand.slug == slug))
        if brand is None:
            raise click.ClickException(f"No brand with the slug {slug!r}.")
        secret = sso.new_secret(db.session, brand)
        click.echo(f"New single sign-on secret for {slug} (shown once; keep it on the server):")
        click.echo(secret)

    @app.cli.group("scheduler")
    def scheduler_group() -> None:
        """Side effects of scheduled publish and unpublish times (one leader at a time)."""

    @scheduler_group.command("run")
    def scheduler_run() -> None:
        """Bid for the scheduler lease and run the scheduler while holding it (foreground)."""
        config.require_secret_key(current_app)
        jobs.run_in_foreground(current_app._get_current_object())

    @scheduler_group.command("run-once")
    def scheduler_run_once() -> None:
        """Run the side effects due now, once, and say which (safe beside a running leader)."""
        config.require_secret_key(current_app)
        now = clock.now()
        lookback = timedelta(days=float(current_app.config["SCHEDULER_LOOKBACK_DAYS"]))
        events = publishing.run_due(
            db.session,
            now,
            f"cli:{jobs.holder_name()}",
            jobs.handlers(current_app),
            lookback,
        )
        for event in events:
            click.echo(
                f"{event.action:<9} translation {event.translation_id} ({event.locale}) "
                f"of article {event.article_id}, brand {event.brand_id}, "
                f"due {event.due_at.isoformat()}"
            )
        click.echo(f"{len(events)} event(s) handled." if events else "Nothing was due.")

    @app.cli.group("automation")
    def automation_group() -> None:
        """The automation: rules, schedules, notifications and webhooks."""

    @automation_group.command("run-schedules")
    def automation_run_schedules() -> None:
        """Run the brands' schedules once, now (safe beside a running leader: each ticket is
        acted on once)."""
        summary = schedules.run_schedules(db.session, clock.now())
        click.echo(
            f"{summary.schedules} schedule(s) run: {summary.fired} ticket(s) acted on, "
            f"{summary.skipped} already done elsewhere, {summary.not_due} no longer due."
        )

    @scheduler_group.command("status")
    def scheduler_status() -> None:
        """Who holds the scheduler lease, and the next scheduled change."""
        now = clock.now()
        holder = publishing.lease_holder(db.session, publishing.LEASE, now)
        upcoming = publishing.next_due(db.session, now)
        click.echo(f"Leader: {holder or 'none'}")
        click.echo(f"Next scheduled change: {upcoming.isoformat() if upcoming else 'none'}")


def _new_password(email: str, from_stdin: bool) -> str:
    """The new admin's password, from stdin (one line) or typed twice; refused as the account
    rules say (portal.desk.accounts.password_problem)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = accounts.password_problem(password, email)
    if problem == "too_short":
        raise click.ClickException(
            f"The password is too short: at least {accounts.MIN_PASSWORD_LENGTH} characters."
        )
    if problem == "is_email":
        raise click.ClickException("The password cannot be the email address.")
    return password


def _create_admin(email: str, name: str, password: str | None) -> User:
    """The admin account (an organization admin, and admin of every brand), on the
    organization (made as "Portal" when there is none), recorded as member.created in the same
    transaction."""
    organization = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    if organization is None:
        organization = Organization(name="Portal")
        db.session.add(organization)
        db.session.flush()
    user = accounts.create_or_update_user(db.session, email, name, "staff", password)
    user.organization_id = organization.id
    db.session.flush()
    roles.grant(db.session, user, "owner")  # members and security ...
    roles.grant(db.session, user, "admin", every_brand=True)  # ... and every brand's work
    audit.record(
        db.session,
        "member.created",
        now=clock.now(),
        target=f"user:{user.id}",
        target_name=f"{user.name} <{user.email}>",
        details={"role": "admin", "by": "flask admin create"},
    )
    db.session.commit()
    return user


def _mail_invitation(user: User) -> None:
    """The invitation a member invited on /admin/members gets (its link sets the first
    password, for 72 hours); the account is "invited" until then."""
    from portal.mail.compose import absolute_url, queue_mail  # needs the app: imported late

    now = clock.now()
    user.invited_at = now
    token = accounts.issue_token(
        db.session, user, "invite", now=now, hours=members.INVITATION_HOURS
    )
    queue_mail(
        db.session,
        "invitation",
        brand=None,
        locale="en",
        to=user.email,
        name=user.name,
        inviter="Portal",
        link=absolute_url("account.accept_invitation", token=token),
        hours=members.INVITATION_HOURS,
    )
    db.session.commit()
