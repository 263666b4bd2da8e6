"""The ticket export (/admin/export, /admin/export/tickets.csv and .json): what an exporter
downloads, which brands and notes it holds, the date filter, the formula guard, the log."""

import csv
import io
import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.desk import export
from portal.desk.models import TicketFile, TicketMessage, TicketTag
from portal.security import audit, roles
from portal.security.models import AuditEntry

BOM = "\ufeff"
# 09:30 in Seoul on 20 November 2026 (the factory's brands are in Asia/Seoul).
MORNING = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", locales=("en",))


@pytest.fixture
def globex(make):
    return make.brand(slug="globex", name="Globex", locales=("en",))


def message(ctx, ticket, body, *, public=True, author=None, at=MORNING, files=()):
    row = TicketMessage(
        ticket_id=ticket.id,
        author_id=author.id if author else None,
        author_name=author.name if author else ticket.requester_name,
        author_email=author.email if author else ticket.requester_email,
        from_requester=author is None,
        public=public,
        body=body,
        created_at=at,
    )
    ctx.add(row)
    ctx.flush()
    for name in files:
        ctx.add(
            TicketFile(
                token=secrets.token_hex(16),
                brand_id=ticket.brand_id,
                ticket_id=ticket.id,
                message_id=row.id,
                sha256="0" * 64,
                filename=name,
                content_type="text/plain",
                size=1,
            )
        )
    ctx.commit()
    return row


@pytest.fixture
def conversation(ctx, make, acme):
    """An Acme ticket: the requester's question (a file), an agent's reply, an internal note
    (a file of its own); tagged, assigned."""
    agent = make.user(role="agent", brands=[acme], name="Aiko Agent", email="aiko@acme.test")
    ticket = make.ticket(
        acme,
        subject="Card declined",
        status="pending",
        priority="high",
        assignee_id=agent.id,
        created_at=MORNING,
        updated_at=MORNING + timedelta(hours=2),
    )
    ctx.add_all(
        [TicketTag(ticket_id=ticket.id, tag="billing"), TicketTag(ticket_id=ticket.id, tag="vip")]
    )
    message(ctx, ticket, "My card is declined.", files=["receipt.png"])
    message(ctx, ticket, "Could you try again?", author=agent, at=MORNING + timedelta(hours=1))
    message(
        ctx,
        ticket,
        "ZqSecret: the bank blocked it.",
        public=False,
        author=agent,
        at=MORNING + timedelta(hours=2),
        files=["bank-log.txt"],
    )
    return ticket


def download(client, fmt="csv", **params):
    response = client.get(f"/admin/export/tickets.{fmt}", query_string=params)
    return response, response.get_data(as_text=True)


def rows_of(text):
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def grant(monkeypatch, grants):
    """The per-brand roles another change brings: the signed-in member holds `grants`
    ({brand id: permissions}) whatever their role word says."""
    monkeypatch.setattr(roles, "grants", lambda session, user: grants)


# -- what an exporter downloads ----------------------------------------------------------------


def test_csv_has_a_bom_the_header_and_a_row_per_message(client, login, acme, conversation):
    login("admin")
    response, text = download(client, brand="acme")
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # streamed as it is read
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="tickets-acme.csv"'
    assert response.headers["Cache-Control"] == "private, no-store"
    header, *rows = rows_of(text)
    assert tuple(header) == export.CSV_HEADER
    assert len(rows) == 3  # the admin may read notes: all three messages
    first = dict(zip(header, rows[0], strict=True))
    assert first["ticket id"] == str(conversation.id)
    assert first["brand"] == "acme"
    assert first["subject"] == "Card declined"
    assert first["status"] == "pending" and first["priority"] == "high"
    assert first["assignee name"] == "Aiko Agent"
    assert first["tags"] == "billing, vip"
    assert first["created at"] == "2026-11-20T09:30:00+09:00"  # the brand's zone, said
    assert first["author kind"] == "requester"
    assert first["visibility"] == "public"
    assert first["body"] == "My card is declined."
    assert first["attachments"] == "receipt.png"
    reply, note = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert reply["author kind"] == "agent" and reply["author name"] == "Aiko Agent"
    assert reply["subject"] == "Card declined"  # the ticket's cells on every row
    assert note["visibility"] == "internal" and note["attachments"] == "bank-log.txt"


def test_json_is_an_array_of_tickets_with_their_messages(client, login, acme, conversation):
    login("admin")
    response, text = download(client, "json", brand="acme")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="tickets-acme.json"'
    (ticket,) = json.loads(text)
    assert ticket["id"] == conversation.id and ticket["brand"] == "acme"
    assert ticket["tags"] == ["billing", "vip"]
    assert ticket["assignee"] == {"name": "Aiko Agent", "email": "aiko@acme.test"}
    assert ticket["created_at"] == "2026-11-20T09:30:00+09:00"
    assert [m["body"] for m in ticket["messages"]] == [
        "My card is declined.",
        "Could you try again?",
        "ZqSecret: the bank blocked it.",
    ]
    first = ticket["messages"][0]
    assert first["author"] == {"kind": "requester", "name": "Mina", "email": "mina@example.com"}
    assert first["public"] is True and first["attachments"] == ["receipt.png"]
    assert ticket["messages"][2]["public"] is False


def test_an_empty_export_is_a_header_or_an_empty_array(client, login, acme):
    login("admin")
    assert rows_of(download(client, brand="acme")[1]) == [list(export.CSV_HEADER)]
    assert json.loads(download(client, "json", brand="acme")[1]) == []


def test_a_ticket_without_messages_still_has_its_row(client, login, make, acme):
    login("admin")
    ticket = make.ticket(acme, subject="Silent")
    _header, row = rows_of(download(client, brand="acme")[1])
    assert row[0] == str(ticket.id) and row[2] == "Silent" and row[20:] == [""] * 8


# -- internal notes ----------------------------------------------------------------------------


def test_internal_notes_stay_out_without_include_notes(ctx, acme, conversation):
    (ticket,) = export.tickets(ctx, [acme.id], export.Period(), include_notes=False)
    bodies = [m["body"] for m in ticket["messages"]]
    assert bodies == ["My card is declined.", "Could you try again?"]
    assert all(m["public"] for m in ticket["messages"])
    assert "bank-log.txt" not in json.dumps(export.as_json(ticket, UTC))
    (with_notes,) = export.tickets(ctx, [acme.id], export.Period(), include_notes=True)
    assert len(with_notes["messages"]) == 3


def test_an_exporter_without_tickets_note_downloads_no_notes(
    client, login, monkeypatch, acme, conversation
):
    login("editor")
    grant(monkeypatch, {acme.id: frozenset({"tickets.export"})})
    for fmt in ("csv", "json"):
        response, text = download(client, fmt, brand="acme")
        assert response.status_code == 200
        assert "Could you try again?" in text
        assert "ZqSecret" not in text and "bank-log.txt" not in text and "internal" not in text


def test_the_log_says_whether_notes_were_included(client, login, monkeypatch, ctx, acme):
    login("editor")
    grant(monkeypatch, {acme.id: frozenset({"tickets.export", "tickets.note"})})
    download(client, brand="acme")
    entry = ctx.scalar(select(AuditEntry).where(AuditEntry.action == "tickets.exported"))
    assert entry.details["internal_notes"] is True


# -- brand scope -------------------------------------------------------------------------------


def test_another_brands_tickets_are_absent(client, login, make, acme, globex, conversation):
    login("admin")
    make.ticket(globex, subject="ZqGlobex invoice")
    for fmt in ("csv", "json"):
        text = download(client, fmt, brand="acme")[1]
        assert "Card declined" in text and "ZqGlobex" not in text


def test_a_brand_outside_the_exporters_scope_is_404_like_an_unknown_one(
    client, login, monkeypatch, make, acme, globex
):
    login("editor")
    grant(monkeypatch, {acme.id: frozenset({"tickets.export"})})
    make.ticket(globex, subject="ZqGlobex invoice")
    for brand in ("globex", "nowhere"):
        for fmt in ("csv", "json"):
            response, text = download(client, fmt, brand=brand)
            assert response.status_code == 404 and "ZqGlobex" not in text
        page = client.get("/admin/export", query_string={"brand": brand, "format": "csv"})
        assert page.status_code == 404
        # (also when another value is wrong: the brand is checked all the same)
        page = client.get("/admin/export", query_string={"brand": brand, "from": "x"})
        assert page.status_code == 404
    listing = client.get("/admin/export").get_data(as_text=True)
    assert 'value="acme"' in listing and "Globex" not in listing


def test_members_without_the_permission_are_refused(client, login, acme):
    login("editor", brands=[acme])
    assert client.get("/admin/export").status_code == 403
    assert download(client, brand="acme")[0].status_code == 403


# -- dates -------------------------------------------------------------------------------------


def test_dates_are_the_brands_days_both_included(client, login, make, acme):
    login("admin")
    seoul_midnight = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # 20 Nov 00:00 in Seoul
    for subject, at in (
        ("ZqBefore", seoul_midnight - timedelta(minutes=1)),
        ("ZqFirst", seoul_midnight),
        ("ZqLast", seoul_midnight + timedelta(days=2) - timedelta(seconds=1)),
        ("ZqAfter", seoul_midnight + timedelta(days=2)),
    ):
        make.ticket(acme, subject=subject, created_at=at, updated_at=at)
    text = download(client, brand="acme", **{"from": "2026-11-20", "to": "2026-11-21"})[1]
    assert "ZqFirst" in text and "ZqLast" in text
    assert "ZqBefore" not in text and "ZqAfter" not in text
    only_from = download(client, brand="acme", **{"from": "2026-11-22"})[1]
    assert "ZqAfter" in only_from and "ZqLast" not in only_from
    only_to = download(client, brand="acme", to="2026-11-19")[1]
    assert "ZqBefore" in only_to and "ZqFirst" not in only_to
    response = download(client, brand="acme", **{"from": "2026-11-20", "to": "2026-11-21"})[0]
    assert (
        'filename="tickets-acme-2026-11-20-2026-11-21.csv"'
        in response.headers["Content-Disposition"]
    )


def test_the_first_and_last_days_there_are_mean_no_limit(client, login, make, acme):
    login("admin")
    make.ticket(acme, subject="ZqAnyTime")
    for days in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"to": "9999-12-30"}):
        response, text = download(client, brand="acme", **days)
        assert response.status_code == 200 and "ZqAnyTime" in text, days


def test_batches_walk_every_ticket_once_in_creation_order(ctx, make, acme):
    same = MORNING
    made = [
        make.ticket(acme, subject=f"T{i}", created_at=same + timedelta(minutes=i // 3))
        for i in range(7)
    ]  # three share each minute: the keyset's tie on id
    found = list(export.tickets(ctx, [acme.id], export.Period(), include_notes=True, batch=2))
    assert [t["id"] for t in found] == [t.id for t in made]


# -- bad parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "20.11.2026"}, "Give a date as YYYY-MM-DD."),
        ({"to": "20261120"}, "Give a date as YYYY-MM-DD."),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "The end date comes before the start date."),
        ({"format": "xlsx"}, "Choose CSV or JSON."),
        ({"brand": ""}, "Choose a brand."),
    ],
)
def test_bad_values_re_render_the_page_with_the_message(client, login, acme, params, message):
    login("admin")
    params = {"brand": "acme", "format": "csv", **params}
    response = client.get("/admin/export", query_string=params)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "<html" in page
    assert message in page
    for key in ("from", "to", "brand"):  # what was typed comes back (a format is a choice)
        assert str(escape(params.get(key, ""))) in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "someday"}, "Give a date as YYYY-MM-DD."),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "The end date comes before the start date."),
        ({"brand": ""}, "Choose a brand."),
    ],
)
def test_bad_values_make_the_downloads_400_in_plain_words(client, login, acme, params, message):
    login("admin")
    for fmt in ("csv", "json"):
        response, text = download(client, fmt, **{"brand": "acme", **params})
        assert response.status_code == 400
        assert response.mimetype == "text/plain"
        assert text.strip() == message


def test_the_page_sends_a_good_choice_to_its_download(client, login, acme):
    login("admin")
    page = client.get("/admin/export")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="export-form"' in html
    assert '<option selected value="acme">' in html  # the only brand, chosen
    params = {"brand": "acme", "from": "2026-11-01", "to": "", "format": "json"}
    sent = client.get("/admin/export", query_string=params)
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/admin/export/tickets.json?brand=acme&from=2026-11-01"


# -- the formula guard and the log -------------------------------------------------------------


def test_cells_a_spreadsheet_would_run_are_quoted(client, login, ctx, make, acme):
    login("admin")
    ticket = make.ticket(acme, subject='=HYPERLINK("http://evil.example","Click")')
    message(ctx, ticket, "+1 555 0100", files=["@evil.csv"])
    message(ctx, ticket, "-2+3")
    message(ctx, ticket, "\tindented")
    _header, *rows = rows_of(download(client, brand="acme")[1])
    assert rows[0][2] == '\'=HYPERLINK("http://evil.example","Click")'
    assert [row[26] for row in rows] == ["'+1 555 0100", "'-2+3", "'\tindented"]
    assert rows[0][27] == "'@evil.csv"
    json_text = download(client, "json", brand="acme")[1]
    assert json.loads(json_text)[0]["subject"].startswith("=HYPERLINK")  # JSON as it is


def test_each_export_is_written_in_the_system_log(client, login, ctx, acme, conversation):
    admin = login("admin")
    download(client, "json", brand="acme", **{"from": "2026-11-01", "to": "2026-11-30"})
    entry = ctx.scalar(select(AuditEntry).where(AuditEntry.action == "tickets.exported"))
    assert entry.kind == audit.SYSTEM
    assert entry.actor_id == admin.id and entry.brand_id == acme.id
    assert entry.target == f"brand:{acme.id}" and entry.target_name == "Acme"
    assert entry.details == {
        "brand": "acme",
        "from": "2026-11-01",
        "to": "2026-11-30",
        "format": "json",
        "internal_notes": True,
        "tickets": 1,
    }
    assert "tickets.exported" in audit.KNOWN_ACTIONS


def test_a_refused_export_is_not_logged(client, login, ctx, acme):
    login("admin")
    download(client, brand="acme", **{"from": "bad"})
    assert ctx.scalar(select(AuditEntry).where(AuditEntry.action == "tickets.exported")) is None
