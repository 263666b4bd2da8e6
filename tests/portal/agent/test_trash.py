"""Deleting tickets in two steps: agents holding "tickets.delete" move a ticket to the trash
(confirmed), where it is gone from every list and the customer's pages; restored as it was, or
purged (rows and files) now or by the daily job 30 days later. Each step in the system log."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import attachments, clock
from portal import jobs
from portal.desk import queues, trash
from portal.desk.customer_requests import Customer, ListQuery, list_requests
from portal.desk.models import (
    Ticket,
    TicketEvent,
    TicketFile,
    TicketMessage,
    TicketShare,
    TicketTag,
)
from portal.desk.queues import QueueQuery
from portal.desk.tickets import link_token
from portal.security.models import AuditEntry
from tests.conftest import PASSWORD


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme")


def _sign_in(app, user):
    client = app.test_client()
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    )
    return client


def _open_count(ctx, brand):
    ctx.expire_all()
    counts = queues.queue_counts(ctx, [brand.id], 0, QueueQuery(), clock.now())
    return counts["open"]


def _audit(ctx, action):
    ctx.expire_all()
    return list(ctx.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _trash_by_page(client, ticket):
    question = client.get(f"/agent/tickets/{ticket.id}/trash")
    assert question.status_code == 200 and "to the trash?" in question.get_data(as_text=True)
    done = client.post(f"/agent/tickets/{ticket.id}/trash", data={"confirmed": "yes"})
    assert done.status_code == 303
    return done


def test_a_trashed_ticket_is_gone_from_queues_counts_my_requests_and_its_link(
    app, client, login, make, ctx, brand
):
    customer = make.user(role="customer", email="jun@example.com", password=PASSWORD)
    ticket = make.ticket(brand, customer, subject="Zq refund please")
    make.ticket(brand, customer, subject="Zq still here")
    login("admin")
    assert "Zq refund please" in client.get("/agent/").get_data(as_text=True)
    assert _open_count(ctx, brand) == 2

    # Asked first: nothing moves without the confirmation.
    assert client.post(f"/agent/tickets/{ticket.id}/trash", data={}).status_code == 200
    assert ctx.get(Ticket, ticket.id).deleted_at is None
    _trash_by_page(client, ticket)

    queue = client.get("/agent/").get_data(as_text=True)
    assert "Zq refund please" not in queue and "Zq still here" in queue
    assert "Zq refund please" not in client.get("/agent/?q=refund").get_data(as_text=True)
    assert _open_count(ctx, brand) == 1
    profile = client.get(f"/agent/customers/{customer.id}").get_data(as_text=True)
    assert "Zq refund please" not in profile
    assert "Zq refund please" in client.get("/agent/trash").get_data(as_text=True)
    [entry] = _audit(ctx, "ticket.trashed")
    assert (entry.kind, entry.brand_id, entry.target_name) == ("system", brand.id, ticket.subject)

    page = list_requests(ctx, Customer.of(ctx, customer), brand.id, ListQuery())
    assert [t.subject for t in page.tickets] == ["Zq still here"]
    theirs = _sign_in(app, customer)
    assert "Zq refund please" not in theirs.get("/acme/en/requests").get_data(as_text=True)
    assert theirs.get(f"/acme/en/requests/{ticket.id}").status_code == 404
    token = link_token(app.config["SECRET_KEY"], ticket)
    anyone = app.test_client()
    assert anyone.get(f"/acme/en/requests/{ticket.id}?token={token}").status_code == 404


def test_restore_brings_the_ticket_back_as_it_was(client, login, make, ctx, brand):
    ticket = make.ticket(brand, subject="Zq back again", status="pending")
    before = ticket.updated_at
    login("admin")
    _trash_by_page(client, ticket)
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "This ticket is in the trash" in page  # its page, for those who may delete
    response = client.post(f"/agent/trash/{ticket.id}/restore", data={"confirmed": "yes"})
    assert response.status_code == 303
    ctx.expire_all()
    row = ctx.get(Ticket, ticket.id)
    assert row.deleted_at is None and row.status == "pending" and row.updated_at == before
    assert "Zq back again" in client.get("/agent/?queue=pending").get_data(as_text=True)
    assert "Zq back again" not in client.get("/agent/trash").get_data(as_text=True)
    [entry] = _audit(ctx, "ticket.restored")
    assert entry.target_name == "Zq back again"


def _ticket_with_everything(app, make, ctx, brand, content=b"the receipt, as a text file"):
    ticket = make.ticket(brand, subject="Zq with files")
    message = TicketMessage(ticket_id=ticket.id, author_name="Mina", body="Here it is")
    ctx.add(message)
    ctx.flush()
    sha = hashlib.sha256(content).hexdigest()
    stored = attachments.path_for(Path(app.instance_path) / "uploads", sha)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(content)
    ctx.add_all(
        [
            TicketFile(
                token="t" * 32,
                brand_id=brand.id,
                ticket_id=ticket.id,
                message_id=message.id,
                sha256=sha,
                filename="receipt.txt",
                content_type="text/plain",
                size=len(content),
            ),
            TicketEvent(ticket_id=ticket.id, kind="status", old_value="new", new_value="open"),
            TicketTag(ticket_id=ticket.id, tag="refund"),
            TicketShare(ticket_id=ticket.id, email="friend@example.com"),
        ]
    )
    follow_up = make.ticket(brand, subject="Zq follow-up", follow_up_of_id=ticket.id)
    ctx.commit()
    return ticket, follow_up, stored


def _rows(ctx, model, ticket_id):
    return ctx.scalar(select(func.count()).select_from(model).where(model.ticket_id == ticket_id))


def test_purge_deletes_the_ticket_its_rows_and_its_files(app, client, login, make, ctx, brand):
    ticket, follow_up, stored = _ticket_with_everything(app, make, ctx, brand)
    number, follow_up_id = ticket.id, follow_up.id
    assert stored.exists()
    login("admin")
    _trash_by_page(client, ticket)
    question = client.get(f"/agent/trash/{ticket.id}/purge")
    assert "for good?" in question.get_data(as_text=True)
    response = client.post(f"/agent/trash/{ticket.id}/purge", data={"confirmed": "yes"})
    assert response.status_code == 303
    ctx.expire_all()
    assert ctx.get(Ticket, number) is None
    for model in (TicketMessage, TicketFile, TicketEvent, TicketTag, TicketShare):
        assert _rows(ctx, model, number) == 0, model
    assert not stored.exists()
    assert ctx.get(Ticket, follow_up_id).follow_up_of_id is None  # forgets it
    [entry] = _audit(ctx, "ticket.purged")
    assert (entry.target_name, entry.brand_id) == ("Zq with files", brand.id)
    assert client.get(f"/agent/tickets/{number}").status_code == 404


def test_purge_keeps_bytes_another_ticket_still_uses(app, make, ctx, brand):
    ticket, _follow_up, stored = _ticket_with_everything(app, make, ctx, brand)
    other = make.ticket(brand, subject="Zq same file")
    ctx.add(
        TicketFile(
            token="u" * 32,
            brand_id=brand.id,
            ticket_id=other.id,
            sha256=_sha_of(ctx, ticket),
            filename="same.txt",
            content_type="text/plain",
            size=1,
        )
    )
    ctx.commit()
    admin = make.user(role="admin")
    trash.trash(ctx, admin, ticket, now=clock.now())
    ctx.commit()
    trash.purge(
        ctx, admin, ticket, uploads_dir=Path(app.instance_path) / "uploads", now=clock.now()
    )
    assert stored.exists()


def _sha_of(ctx, ticket):
    return ctx.scalar(select(TicketFile.sha256).where(TicketFile.ticket_id == ticket.id))


def test_the_daily_job_purges_what_was_trashed_more_than_30_days_ago(app, make, ctx, brand):
    old = make.ticket(brand, subject="Zq old")
    recent = make.ticket(brand, subject="Zq recent")
    admin = make.user(role="admin")
    now = clock.now()
    trash.trash(ctx, admin, old, now=now - timedelta(days=31))
    trash.trash(ctx, admin, recent, now=now - timedelta(days=29))
    ctx.commit()
    uploads = Path(app.instance_path) / "uploads"
    assert trash.purge_trash(ctx, now, uploads_dir=uploads) == 1
    ctx.expire_all()
    assert ctx.get(Ticket, old.id) is None and ctx.get(Ticket, recent.id) is not None
    [entry] = _audit(ctx, "ticket.purged")
    assert entry.actor_id is None and entry.target_name == "Zq old"  # Portal itself
    assert trash.purge_trash(ctx, now, uploads_dir=uploads) == 0  # nothing twice

    # The scheduler's leader runs it (planned daily; run here at once).
    recent_id = recent.id
    ctx.get(Ticket, recent_id).deleted_at = now - timedelta(days=40)  # (a while has passed)
    ctx.commit()
    leader, follower = jobs.Leader(app), jobs.Leader(app)
    try:
        assert leader.tick() and not follower.tick()
        planned = {job.id: job for job in leader.scheduler.get_jobs()}
        assert planned[jobs.PURGE_JOB].args == (leader.holder,)
        assert follower.purge_trash() is None  # only the leader purges
        leader.purge_trash()
    finally:
        leader.stop()
        follower.stop()
    ctx.expire_all()
    assert ctx.get(Ticket, recent_id) is None


def test_an_agent_may_not_delete_nor_open_the_trash(client, login, make, ctx, brand):
    """Agents hold tickets.view/reply/note/assign, not tickets.delete."""
    ticket = make.ticket(brand)
    login("agent", brands=[brand])
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Move to the trash" not in page and 'href="/agent/trash"' not in page
    assert client.get(f"/agent/tickets/{ticket.id}/trash").status_code == 403
    data = {"confirmed": "yes"}
    assert client.post(f"/agent/tickets/{ticket.id}/trash", data=data).status_code == 403
    assert client.get("/agent/trash").status_code == 403
    assert ctx.get(Ticket, ticket.id).deleted_at is None


def test_a_trashed_ticket_is_404_for_an_agent_without_the_permission(
    client, login, make, ctx, brand
):
    ticket = make.ticket(brand)
    trash.trash(ctx, make.user(role="admin"), ticket, now=clock.now())
    ctx.commit()
    login("agent", brands=[brand])
    assert client.get(f"/agent/tickets/{ticket.id}").status_code == 404
    reply = client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": "Hello"})
    assert reply.status_code == 404
    assert (
        client.post(f"/agent/trash/{ticket.id}/restore", data={"confirmed": "yes"}).status_code
        == 404
    )
    assert (
        client.post(f"/agent/trash/{ticket.id}/purge", data={"confirmed": "yes"}).status_code == 404
    )


def test_the_trash_link_is_in_the_menu_for_those_who_may_delete(client, login, make, brand):
    login("admin")
    page = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'<a href="/agent/trash"[^>]*>Trash</a>', page)
