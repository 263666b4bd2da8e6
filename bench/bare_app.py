"""The baseline for bench/pages.py: a bare Flask + Jinja page of a given size, no database.

Serve it the way the portal is served: `gunicorn -w 2 --chdir bench bare_app:app`, with
BARE_PAGE_BYTES set to the size of the portal page it stands beside (default 10000).
"""

import os

from flask import Flask, render_template

PARAGRAPH = (
    "A help-center page is mostly text: a title, a few paragraphs, lists and links. This "
    "paragraph stands in for that text so the page has the size of a real one."
)

app = Flask(__name__)


def _context(paragraphs: int, pad: int) -> dict:
    return {"title": "Bare page", "paragraphs": [PARAGRAPH] * paragraphs, "pad": "x" * pad}


def _size(context: dict) -> int:
    return len(render_template("bare.html", **context).encode())


def _fit(target: int) -> dict:
    """Paragraphs, then ASCII padding, so the rendered page is exactly `target` bytes."""
    with app.app_context():
        empty = _size(_context(0, 0))
        one = _size(_context(1, 0)) - empty
        paragraphs = max(0, (target - empty) // one)
        pad = max(0, target - _size(_context(paragraphs, 0)))
        return _context(paragraphs, pad)


CONTEXT = _fit(int(os.environ.get("BARE_PAGE_BYTES", "10000")))


@app.get("/")
def page():
    return render_template("bare.html", **CONTEXT)
