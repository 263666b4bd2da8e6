"""The audit and system log for admins: /admin/audit (filter, read) and /admin/audit.csv."""

import json
from collections.abc import Iterator

from flask import Response, abort, request, stream_with_context
from flask_login import current_user

from kb.clock import now
from portal import access
from portal.blueprints.admin import bp
from portal.extensions import db
from portal.security import audit
from portal.web.addresses import client_ip
from portal.web.csv_download import BOM, CsvLines
from portal.web.messages import error_text
from portal.web.rendering import render

CSV_HEADER = (
    "at (UTC)",
    "kind",
    "action",
    "actor id",
    "actor name",
    "actor email",
    "target",
    "target name",
    "brand id",
    "ip",
    "details",
)


@bp.before_request
def audit_admins_only():
    """Every route of this module (endpoints "admin.audit..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.audit") and not access.may("security"):
        abort(403)


@bp.get("/audit")
def audit_log():
    query = audit.AuditQuery.from_args(request.args, db.session)
    page = audit.search(db.session, query, before=audit.parse_before(request.args.get("before")))
    errors = {key: error_text(code, "audit") for key, code in query.errors.items()}
    return render(
        "admin/audit/log.html",
        "results",
        status=400 if errors else 200,
        query=query,
        errors=errors,
        page=page,
        actions=audit.KNOWN_ACTIONS,
        brand_names=audit.brand_names(db.session, {row.brand_id for row in page.rows}),
        summary=audit.details_summary,
    )


@bp.get("/audit.csv")
def audit_csv():
    query = audit.AuditQuery.from_args(request.args, db.session)
    if query.errors:
        return audit_log()
    audit.record(
        db.session,
        "audit.exported",
        now=now(),
        kind=audit.SYSTEM,
        actor=current_user._get_current_object(),
        ip=client_ip(),
        details={"filter": query.as_args()},
    )
    db.session.commit()
    response = Response(stream_with_context(_csv_lines(query)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


def _csv_lines(query: audit.AuditQuery) -> Iterator[str]:
    """The CSV, a line at a time: a BOM (so Excel reads Korean as UTF-8), the header, the rows."""
    lines = CsvLines()
    yield BOM + lines.line(CSV_HEADER)
    for entry in audit.rows_for_csv(db.session, query):
        yield lines.line(
            (
                entry.at.isoformat(),
                entry.kind,
                entry.action,
                entry.actor_id or "",
                entry.actor_name,
                entry.actor_email,
                entry.target,
                entry.target_name,
                entry.brand_id or "",
                entry.ip,
                json.dumps(entry.details or {}, ensure_ascii=False, sort_keys=True),
            )
        )
