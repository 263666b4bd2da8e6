"""Queue counts from ticket_counts (kept by triggers, folded by readers): always the same
numbers as counting the tickets, after any change, many changes at once, and folding."""

import random
import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from kb import clock
from portal.desk import queues
from portal.desk.models import AgentGroup, AgentGroupMember, Ticket, TicketCount
from portal.desk.queues import QueueQuery, queue_counts
from portal.extensions import db

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")


@pytest.fixture
def desk(make, ctx):
    """Two brands, three agents (the first in both groups of the first brand), two groups."""
    acme = make.brand(slug="acme", name="Acme")
    globex = make.brand(slug="globex", name="Globex")
    people = [make.user(role="agent", brands=[acme, globex], name=n) for n in ("Ann", "Bo", "Cy")]
    groups = []
    for name in ("Billing", "Support"):
        group = AgentGroup(brand_id=acme.id, name=name)
        ctx.add(group)
        ctx.flush()
        ctx.add(AgentGroupMember(group_id=group.id, user_id=people[0].id))
        groups.append(group)
    ctx.commit()
    return {"brands": [acme, globex], "agents": people, "groups": groups}


def new_ticket(desk, rng: random.Random) -> Ticket:
    now = clock.now() - timedelta(days=rng.choice((0, 1, 10)))
    status = rng.choice(STATUSES)
    return Ticket(
        brand_id=rng.choice(desk["brands"]).id,
        locale="en",
        subject="Help",
        description="Please",
        status=status,
        priority=rng.choice(PRIORITIES),
        assignee_id=rng.choice([None, *(a.id for a in desk["agents"])]),
        group_id=rng.choice([None, *(g.id for g in desk["groups"])]),
        requester_name="Kim",
        requester_email="kim@example.com",
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
        solved_at=now if status == "solved" else None,
    )


def change(ctx, desk, rng: random.Random, ids: list[int]) -> None:
    """One random change, the ways the app makes them: an ORM attribute, a bulk UPDATE, a
    DELETE, a new ticket, a move to the trash or out of it."""
    kinds = ("status", "assignee", "group", "brand", "priority", "bulk", "delete", "new", "trash")
    kind = rng.choice(kinds)
    if kind == "new" or not ids:
        row = new_ticket(desk, rng)
        ctx.add(row)
        ctx.flush()
        ids.append(row.id)
    elif kind == "delete":
        ctx.execute(delete(Ticket).where(Ticket.id == ids.pop(rng.randrange(len(ids)))))
    elif kind == "bulk":
        chosen = rng.sample(ids, min(len(ids), 4))
        ctx.execute(update(Ticket).where(Ticket.id.in_(chosen)).values(status=rng.choice(STATUSES)))
    else:
        row = ctx.get(Ticket, rng.choice(ids))
        if kind == "status":
            row.status = rng.choice(STATUSES)
        elif kind == "assignee":
            row.assignee_id = rng.choice([None, *(a.id for a in desk["agents"])])
        elif kind == "group":
            row.group_id = rng.choice([None, *(g.id for g in desk["groups"])])
        elif kind == "brand":
            row.brand_id = rng.choice(desk["brands"]).id
        elif kind == "trash":  # (the trash leaves it out of every count; restored, back in)
            row.deleted_at = None if row.deleted_at else clock.now()
        else:
            row.priority = rng.choice(PRIORITIES)
        ctx.flush()


def views(desk):
    """(brand ids the agent works in, user id, query) of every kind the counts answer."""
    acme, globex = desk["brands"]
    ann, bo, _cy = desk["agents"]
    yield None, ann.id, QueueQuery()
    yield [acme.id], ann.id, QueueQuery()
    yield [acme.id, globex.id], bo.id, QueueQuery(brand="globex", brand_id=globex.id)
    yield None, bo.id, QueueQuery(status="pending")
    yield None, ann.id, QueueQuery(priority="high", brand="acme", brand_id=acme.id)
    yield None, ann.id, QueueQuery(status="closed")


def assert_counts_match_the_tickets(session, desk):
    now = clock.now()
    for brand_ids, user_id, query in views(desk):
        kept = queue_counts(session, brand_ids, user_id, query, now)
        counted = queues._counted_tickets(session, brand_ids, user_id, query, now)
        assert kept == counted, (brand_ids, user_id, query)


def test_counts_follow_every_kind_of_change_and_survive_folding(ctx, desk):
    rng = random.Random(8)
    ids = []
    for step in range(300):
        change(ctx, desk, rng, ids)
        if step % 25 == 24:
            ctx.commit()
            assert_counts_match_the_tickets(ctx, desk)
        if step % 100 == 99:
            queues.fold(ctx)
            ctx.commit()
            assert_counts_match_the_tickets(ctx, desk)
    ctx.rollback()
    assert_counts_match_the_tickets(ctx, desk)  # a rolled back change counts for nothing


def test_the_counts_read_one_row_per_combination_however_many_tickets(ctx, desk):
    """What the counts read does not grow with the tickets: 400 open tickets of one brand,
    priority and nobody's are one row once folded, and their counts are right."""
    acme = desk["brands"][0]
    rng = random.Random(1)
    for _ in range(400):
        row = new_ticket(desk, rng)
        row.brand_id, row.status, row.priority = acme.id, "open", "normal"
        row.assignee_id = row.group_id = None
        ctx.add(row)
    ctx.commit()
    assert ctx.scalar(select(func.count()).select_from(TicketCount)) == 400
    assert queues.fold(ctx) == 400
    ctx.commit()
    assert ctx.execute(select(TicketCount.status, TicketCount.n)).all() == [("open", 400)]
    ann = desk["agents"][0]
    counts = queue_counts(ctx, None, ann.id, QueueQuery(), clock.now())
    assert counts == {"unassigned": 400, "mine": 0, "groups": 0, "open": 400, "pending": 0,
                      "solved": 0}  # fmt: skip
    ctx.execute(update(Ticket).values(status="closed"))
    ctx.commit()
    queues.fold(ctx)
    ctx.commit()
    assert ctx.scalar(select(func.count()).select_from(TicketCount)) == 0  # no zero rows kept


def test_a_reader_folds_when_the_rows_have_piled_up(client, make, ctx, desk, login, monkeypatch):
    monkeypatch.setattr(queues, "FOLD_ROWS", 10)
    acme = desk["brands"][0]
    rng = random.Random(2)
    for _ in range(30):
        row = new_ticket(desk, rng)
        row.brand_id, row.status = acme.id, "new"
        ctx.add(row)
    ctx.commit()
    login("admin")
    html = client.get("/agent/?queue=unassigned").get_data(as_text=True)
    rows = ctx.scalar(select(func.count()).select_from(TicketCount))
    assert rows < 30  # folded: one row per (priority, assignee, group) at most
    assert_counts_match_the_tickets(ctx, desk)
    unassigned = ctx.scalar(
        select(func.count()).where(Ticket.status == "new", Ticket.assignee_id.is_(None))
    )
    assert f'data-queue="unassigned">{unassigned}</span>' in html


def test_counts_stay_right_under_concurrent_changes_and_folds(app, ctx, desk):
    """Six writers change tickets at once while two readers fold: no change is lost or
    counted twice (on PostgreSQL in `make test`, as on SQLite)."""
    rng = random.Random(3)
    tickets = [new_ticket(desk, rng) for _ in range(60)]
    ctx.add_all(tickets)
    ctx.commit()
    ids = [t.id for t in tickets]
    errors = []
    start = threading.Barrier(8)

    def write(worker):
        mine = random.Random(worker)
        try:
            with app.app_context():
                start.wait()
                for _ in range(20):
                    row = db.session.get(Ticket, mine.choice(ids))
                    row.status = mine.choice(STATUSES)
                    row.assignee_id = mine.choice([None, *(a.id for a in desk["agents"])])
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    def fold():
        try:
            with app.app_context():
                start.wait()
                for _ in range(10):
                    queues.fold(db.session)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    threads += [threading.Thread(target=fold) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ctx.expire_all()
    assert_counts_match_the_tickets(ctx, desk)
