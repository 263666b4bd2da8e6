"""Article attachments in the editor: upload, list and delete files for one translation."""

import re
from functools import partial
from pathlib import Path

from flask import abort, current_app, flash, redirect, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField

from kb import attachments, clock
from kb.models import Attachment, Brand
from portal import access
from portal.blueprints.admin import bp
from portal.desk import files as ticket_files
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render, wants_fragment

TEMPLATE = "admin/attachments.html"
ACCEPT = ",".join(f".{ext}" for ext in attachments.TYPES_BY_EXTENSION)

TYPE_LABELS = {
    "image/png": _l("PNG image"),
    "image/jpeg": _l("JPEG image"),
    "image/gif": _l("GIF image"),
    "image/webp": _l("WebP image"),
    "application/pdf": _l("PDF document"),
    "text/plain": _l("Text"),
    "text/csv": _l("CSV table"),
}


class AttachmentForm(FlaskForm):
    """An upload: the file and whether all translations share it (article and locale come
    from the URL, the uploader from the session)."""

    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    shared = BooleanField(_l("Use in all languages of this article"))


def uploads_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def limits() -> attachments.Limits:
    config = current_app.config
    return attachments.Limits(
        file_bytes=int(config.get("ATTACHMENT_MAX_BYTES", attachments.MAX_FILE_BYTES)),
        files_per_article=int(
            config.get("ATTACHMENT_MAX_FILES", attachments.MAX_FILES_PER_ARTICLE)
        ),
        bytes_per_article=int(
            config.get("ATTACHMENT_MAX_TOTAL_BYTES", attachments.MAX_BYTES_PER_ARTICLE)
        ),
    )


def _megabytes(size: int) -> str:
    return _("%(size)s MB", size=format_decimal(size / (1024 * 1024), format="#,##0.#"))


def _error_message(code: str) -> str:
    caps = limits()
    values = {
        "too_large": {"size": attachment_size(caps.file_bytes)},
        "too_many": {"count": caps.files_per_article},
        "total_too_large": {"size": attachment_size(caps.bytes_per_article)},
    }
    return error_text(code, "attachment", default="failed", **values.get(code, {}))


def _article_and_brand(article_id: int, locale: str):
    article = access.article_for_editor_or_404(db.session, article_id)
    brand = db.session.get(Brand, article.brand_id)
    if locale not in brand.locales:
        abort(404)
    return article, brand


def _editor_url(article, locale) -> str:
    return url_for(".kb_translation", article_id=article.id, locale=locale) + "#attachments"


def _fragment(article, brand, locale, form=None, notice=None, status=200):
    """The attachments block alone for htmx; for a plain form post, the same block as a page."""
    return render(
        TEMPLATE,
        status=status,
        article=article,
        brand=brand,
        locale=locale,
        upload_form=form,
        notice=notice,
        standalone=not wants_fragment(),
    )


@bp.post("/kb/articles/<id:article_id>/<locale>/attachments")
def kb_attachment_upload(article_id, locale):
    article, brand = _article_and_brand(article_id, locale)
    form = AttachmentForm()
    if form.validate_on_submit():
        upload = form.file.data
        result = attachments.store(
            db.session,
            uploads_dir(),
            brand.id,
            article.id,
            None if form.shared.data else locale,
            upload.stream,
            upload.filename,
            current_user.id,
            clock.now(),
            limits(),
        )
        if result.ok:
            notice = _("%(name)s uploaded.", name=result.attachment.filename)
            if wants_fragment():
                return _fragment(article, brand, locale, notice=notice)
            flash(notice, "success")
            return redirect(_editor_url(article, locale), 303)
        form.file.errors = [_error_message(code) for code in result.errors["file"]]
    return _fragment(article, brand, locale, form=form, status=400)


@bp.post("/kb/articles/<id:article_id>/<locale>/attachments/<id:att_id>/delete")
def kb_attachment_delete(article_id, locale, att_id):
    article, brand = _article_and_brand(article_id, locale)
    attachment = db.session.scalar(
        select(Attachment).where(
            Attachment.id == att_id,
            Attachment.article_id == article.id,
            Attachment.brand_id == article.brand_id,
        )
    )
    if attachment is None or attachment.locale not in (None, locale):
        abort(404)  # only what this translation's list shows, and the same 404 as unknown ids
    name = attachment.filename
    in_tickets = partial(ticket_files.in_tickets, db.session)  # the same bytes in a ticket
    attachments.delete(db.session, uploads_dir(), attachment, used_elsewhere=in_tickets)
    notice = _("%(name)s deleted.", name=name)
    if wants_fragment():
        return _fragment(article, brand, locale, notice=notice)
    flash(notice, "success")
    return redirect(_editor_url(article, locale), 303)


@bp.app_template_global()
def attachments_for(article, locale: str) -> list[Attachment]:
    """The files listed in the editor for one translation (the article is already checked)."""
    return attachments.for_article(db.session, article.id, locale)


@bp.app_template_global()
def attachment_upload_form() -> AttachmentForm:
    return AttachmentForm(formdata=None)


@bp.app_template_global()
def attachment_url(attachment: Attachment) -> str:
    """/files/<id>/<name>: the name is only for people and the browser's "save as"; letters,
    digits, dots and hyphens keep it free of spaces and brackets that would end a Markdown link."""
    name = re.sub(r"[^\w.\-]+", "-", attachment.filename).strip("-") or "file"
    return url_for("helpcenter.attachment_file", att_id=attachment.id, name=name)


@bp.app_template_global()
def attachment_markdown(attachment: Attachment) -> str:
    """`![name](/files/<id>/<name>)`, ready to paste into the article's Markdown."""
    alt = "".join(ch for ch in attachment.filename if ch not in "[]\\")
    return f"![{alt}]({attachment_url(attachment)})"


@bp.app_template_global()
def attachment_is_image(attachment: Attachment) -> bool:
    return attachments.is_inline(attachment.content_type)


@bp.app_template_global()
def attachment_size(size: int) -> str:
    if size < 1024:
        return _("%(size)s bytes", size=format_decimal(size))
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(size / 1024, format="#,##0.#"))
    return _megabytes(size)


@bp.app_template_global()
def attachment_type_label(content_type: str) -> str:
    return str(TYPE_LABELS.get(content_type, content_type))


@bp.app_template_global()
def attachment_accept() -> str:
    return ACCEPT


@bp.app_template_global()
def attachment_help() -> str:
    caps = limits()
    return _(
        "PNG, JPEG, GIF or WebP images, PDF, or plain text (.txt, .csv, .log); up to %(size)s "
        "each, %(count)s files per article.",
        size=attachment_size(caps.file_bytes),
        count=caps.files_per_article,
    )
