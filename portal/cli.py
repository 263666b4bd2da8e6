"""flask commands: demo, brand, scheduler, mail."""

from datetime import timedelta

import click
from flask import Flask, current_app
from sqlalchemy import select

from kb import clock, publishing
from kb.models import Brand
from portal import config, jobs
from portal.desk import sso
from portal.extensions import db
from portal.mail import commands as mail_commands


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
            click.echo(f"  {role:<9} {email}")
        click.echo("Demo support addresses (mail to them through 127.0.0.1:2525):")
        for address in demo_content.demo_mail.addresses():
            click.echo(f"  {address}")

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

    @scheduler_group.command("status")
    def scheduler_status() -> None:
        """Who holds the scheduler lease, and the next scheduled change."""
        now = clock.now()
        holder = publishing.lease_holder(db.session, publishing.LEASE, now)
        upcoming = publishing.next_due(db.session, now)
        click.echo(f"Leader: {holder or 'none'}")
        click.echo(f"Next scheduled change: {upcoming.isoformat() if upcoming else 'none'}")
