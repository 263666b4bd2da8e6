"""ARIA on staff pages: names point at elements that exist; live regions only where useful."""

import re
import secrets

from portal.desk.models import Ticket


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def _references(html: str) -> set[str]:
    refs = re.findall(r'\saria-(?:labelledby|describedby|controls)="([^"]+)"', html)
    return {ref for value in refs for ref in value.split()}


def test_agent_ticket_page_without_scheduled_replies_names_no_missing_heading(client, make, login):
    """Issue 15 item 30: the empty "scheduled replies" region pointed aria-labelledby at a
    heading that is only there when something is scheduled."""
    brand = make.brand(slug="acme", locales=("en",))
    ticket = Ticket(
        brand_id=brand.id,
        locale="en",
        subject="Card declined",
        description="It was declined.",
        status="open",
        requester_name="Visitor",
        requester_email="visitor@example.com",
        link_secret=secrets.token_hex(16),
    )
    make.session.add(ticket)
    make.session.commit()
    login("agent", brands=[brand])
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="scheduled"' in html
    assert _references(html) <= _ids(html), _references(html) - _ids(html)


def test_editor_live_preview_is_not_read_aloud_on_every_keystroke(client, make, login):
    """Issue 15 item 30: the editor's live preview was aria-live="polite", so a screen reader
    re-read the whole article after each pause in typing."""
    brand = make.brand(slug="acme", locales=("en",))
    login("editor", brands=[brand])
    html = client.get("/admin/kb/articles/new?brand=acme&locale=en").get_data(as_text=True)
    preview = re.search(r'<div id="preview"[^>]*>', html)
    assert preview, "no live preview on the editor page"
    assert "aria-live" not in preview[0]
    assert _references(html) <= _ids(html), _references(html) - _ids(html)
