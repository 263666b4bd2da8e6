"""The "Reply scheduled for ..." message writes its time as the ticket page does."""

import re

import pytest


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme", timezone="Asia/Seoul")


@pytest.fixture
def ticket(make, brand):
    requester = make.user(role="customer", email="mina@example.com", name="Mina")
    return make.ticket(brand, requester)


def test_scheduled_reply_flash_writes_the_time_as_the_ticket_page(
    client, login, brand, ticket, frozen_now
):
    """Issue 15 item 16: the flash said "12/7/26, 3:10 PM" while the page said
    "Dec 7, 2026, 3:10:00 PM" for the same moment."""
    login("agent", brands=[brand])
    sent = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Refund on its way.", "kind": "public", "status": "pending", "delay": "600"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    in_flash = re.search(r"Reply scheduled for (.*?)\. You can", page).group(1)
    on_page = re.search(r"Goes out at (.*?), unless you change", page).group(1)
    assert in_flash == on_page
    assert not re.search(r"\d:\d\d:\d\d", on_page)  # to the minute, as elsewhere
