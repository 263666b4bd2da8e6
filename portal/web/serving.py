"""Whether this process serves requests (gunicorn, `flask run`) or runs a one-off command."""

import click


def serving() -> bool:
    """False inside `flask db upgrade`, `flask demo`, `flask scheduler run` and the like:
    background threads (the scheduler lease, index reconciling) belong to servers only."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True  # gunicorn, a WSGI server, or plain Python
    parent = ctx.parent.command.name if ctx.parent is not None else None
    return ctx.command.name == "run" and parent not in ("scheduler", "search")
