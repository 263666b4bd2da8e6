"""flask commands: demo."""

import click
from flask import Flask

from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo() -> None:
        """Load the demo brands, articles and accounts (password portal-demo)."""
        from portal import demo as demo_content

        loaded = demo_content.load(db.session)
        click.echo(f"Demo brands loaded: {', '.join(loaded) or 'already present'}")
        click.echo(f"Demo logins (password: {demo_content.DEMO_PASSWORD}):")
        for email, _name, role in demo_content.DEMO_ACCOUNTS:
            click.echo(f"  {role:<9} {email}")
