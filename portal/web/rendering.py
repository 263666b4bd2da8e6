"""render(): the whole page, or one block of it for an htmx request (template fragments)."""

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """htmx swaps a fragment, except for boosted and history-restore requests (whole page)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


# Sent with the fragment answering a form (not a GET: polls and lists keep them): the page's
# messages were about what came before, and would stand above this answer's own.
STALE_FLASHES = '<div class="flashes" id="flashes" hx-swap-oob="true"></div>'


def render(template: str, block: str | None = None, status: int = 200, **context):
    if block and wants_fragment():
        body = render_block(template, block, **context)
        if request.method != "GET":
            body += STALE_FLASHES
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
