"""Ticket data export: /admin/export (choose brand, dates, format) and its downloads,
/admin/export/tickets.csv and /admin/export/tickets.json, streamed as they are read."""

import json
from collections.abc import Iterable, Iterator
from datetime import tzinfo

from flask import Response, abort, redirect, request, stream_with_context, url_for
from flask_login import current_user

from kb.clock import now
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.export_forms import ExportForm
from portal.desk import export
from portal.extensions import db
from portal.web.csv_download import BOM, CsvLines
from portal.web.rendering import render

PERMISSION = "tickets.export"
MIMETYPES = {"csv": "text/csv", "json": "application/json"}


@bp.before_request
def exporters_only():
    """Every route of this module (endpoints "admin.export..."): holders of tickets.export."""
    if (request.endpoint or "").startswith("admin.export") and not access.may(PERMISSION):
        abort(403)


def _form() -> ExportForm:
    return ExportForm(access.brands_with(db.session, PERMISSION), formdata=request.args)


@bp.get("/export")
def export_page():
    """The form; sent (any parameter given), a download of what it says, or the form again
    with what is wrong beside each field."""
    form = _form()
    if not request.args:
        if len(form.brand.choices) == 2:  # the user's only brand, chosen already
            form.brand.data = form.brand.choices[1].value
        return render("admin/export/page.html", form=form)
    if form.parse():
        access.brand_with_permission_or_404(db.session, form.brand.data, PERMISSION)
        target = url_for("admin.export_download", fmt=form.format.data, **form.parameters())
        return redirect(target, 303)
    if form.brand.data:  # another brand than the user's answers 404 here too
        access.brand_with_permission_or_404(db.session, form.brand.data, PERMISSION)
    return render("admin/export/page.html", form=form, status=400)


@bp.get("/export/tickets.csv", defaults={"fmt": "csv"})
@bp.get("/export/tickets.json", defaults={"fmt": "json"})
def export_download(fmt):
    """The tickets of one brand created in the days asked (the brand's days), their messages
    (internal notes only for those who may read them on that brand), streamed."""
    form = _form()
    if not form.parse(fmt_from_url=fmt):
        if form.brand.data:
            access.brand_with_permission_or_404(db.session, form.brand.data, PERMISSION)
        return Response("\n".join(form.errors_in_words()) + "\n", 400, mimetype="text/plain")
    brand = access.brand_with_permission_or_404(db.session, form.brand.data, PERMISSION)
    include_notes = access.may("tickets.note", brand.id)
    brand_id, tz = brand.id, export.brand_zone(brand)
    filename = "-".join(
        ["tickets", brand.slug, *(d.isoformat() for d in (form.first_day, form.last_day) if d)]
    )
    period = export.start(
        db.session,
        current_user.user,
        brand,
        form.first_day,
        form.last_day,
        fmt,
        include_notes,
        now(),
        request.remote_addr or "",
    )
    db.session.commit()  # the log says so even if the download is cut short
    tickets = export.tickets(db.session, [brand_id], period, include_notes)
    chunks = _csv(tickets, tz) if fmt == "csv" else _json(tickets, tz)
    response = Response(stream_with_context(chunks), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _csv(tickets: Iterable[dict], tz: tzinfo) -> Iterator[str]:
    """A BOM and the header, then a chunk a ticket: its rows (one a message)."""
    lines = CsvLines()
    yield BOM + lines.line(export.CSV_HEADER)
    for ticket in tickets:
        yield lines.lines(export.csv_rows(ticket, tz))


def _json(tickets: Iterable[dict], tz: tzinfo) -> Iterator[str]:
    """An array of ticket objects, a chunk a ticket (one a line)."""
    yield "["
    separator = "\n"
    for ticket in tickets:
        yield separator + json.dumps(export.as_json(ticket, tz), ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
