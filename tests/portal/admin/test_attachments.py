"""Article attachments: upload, list, insert, delete, download, and the attacks on each."""

import hashlib
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kb import attachments, clock
from kb.markdown import render
from kb.models import Attachment, Translation
from portal import create_app
from portal.desk.models import TicketFile
from portal.extensions import db
from tests.conftest import _test_config
from tests.kb.test_attachments import png

HX = {"HX-Request": "true"}


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"))


@pytest.fixture
def article(make, brand):
    section = make.section(make.category(brand, {"en": "Account"}), {"en": "Signing in"})
    return make.article(section, {"en": "Reset", "ko": "재설정"}, status="draft")


@pytest.fixture
def editor(login, brand):
    return login("editor", brands=[brand])


@pytest.fixture
def uploads(app):
    return Path(app.instance_path) / "uploads"


def upload(client, article, data, name, locale="en", shared=False, headers=None):
    form = {"file": FileStorage(io.BytesIO(data), filename=name)}
    if shared:
        form["shared"] = "y"
    # Encoded in memory: the test client's own encoder leaves a temporary file open for 10 MB.
    boundary, body = encode_multipart(form)
    return client.post(
        f"/admin/kb/articles/{article.id}/{locale}/attachments",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers or {},
    )


def only_attachment(ctx) -> Attachment:
    ctx.expire_all()
    return ctx.scalars(select(Attachment)).one()


def publish(ctx, article, locale="en"):
    t = ctx.scalar(
        select(Translation).where(
            Translation.article_id == article.id, Translation.locale == locale
        )
    )
    t.status, t.publish_at = "published", clock.now() - timedelta(minutes=1)
    ctx.commit()


def download(client, path):
    """Buffered, so the served file is read and closed within the request."""
    return client.get(path, buffered=True)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_uploaded_png_is_listed_and_served_inline_as_png_with_nosniff(client, ctx, editor, article):
    data = png(b"listed")
    response = upload(client, article, data, "Login screen.png")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/kb/articles/{article.id}/en#attachments")
    att = only_attachment(ctx)
    page = text(client.get(response.headers["Location"]))
    assert "Login screen.png uploaded." in page
    assert "Login screen.png" in page and "PNG image" in page
    assert f"![Login screen.png](/files/{att.id}/Login-screen.png)" in page
    assert "data-insert-markdown=" in page and "js/editor.js" in page

    served = download(client, f"/files/{att.id}/Login-screen.png")
    assert served.status_code == 200
    assert served.data == data
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert served.headers["Content-Disposition"].startswith("inline")


def test_upload_with_htmx_answers_the_attachments_fragment(client, ctx, editor, article):
    response = upload(client, article, png(b"htmx"), "shot.png", headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="attachments"' in body
    assert "shot.png uploaded." in body
    assert "HX-Request" in response.headers["Vary"]


def test_editor_page_shows_the_upload_form_for_the_translation(client, editor, article):
    page = text(client.get(f"/admin/kb/articles/{article.id}/ko"))
    assert 'enctype="multipart/form-data"' in page
    assert f'action="/admin/kb/articles/{article.id}/ko/attachments"' in page
    assert "No files yet." in page


def test_inserted_markdown_snippet_renders_as_an_image(client, ctx, editor, article):
    upload(client, article, png(b"snippet"), "Step 1 (new).png")
    att = only_attachment(ctx)
    page = text(client.get(f"/admin/kb/articles/{article.id}/en"))
    snippet = re.search(r'data-insert-markdown="([^"]+)"', page).group(1)
    html = render(snippet.replace("&#34;", '"').replace("&amp;", "&")).html
    assert f'<img src="/files/{att.id}/Step-1-new-.png" alt="Step 1 (new).png"' in html


def test_shared_file_is_listed_in_every_language_and_own_file_only_in_its_own(
    client, ctx, editor, article
):
    upload(client, article, png(b"all"), "everyone.png", shared=True, headers=HX)
    upload(client, article, png(b"ko"), "korean-only.png", locale="ko", headers=HX)
    english = text(client.get(f"/admin/kb/articles/{article.id}/en"))
    korean = text(client.get(f"/admin/kb/articles/{article.id}/ko"))
    assert "everyone.png" in english and "All languages (shared)" in english
    assert "korean-only.png" not in english
    assert "everyone.png" in korean and "korean-only.png" in korean


def test_html_file_renamed_png_is_refused_by_its_content(client, ctx, editor, article):
    response = upload(client, article, b"<html><script>alert(1)</script></html>", "cat.png")
    assert response.status_code == 400
    body = text(response)
    assert "This kind of file is not allowed" in body
    assert re.search(r'class="field has-error".*?name="file"', body, re.S)
    assert ctx.scalars(select(Attachment)).all() == []


def test_svg_is_refused_at_upload(client, ctx, editor, article):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name in ("logo.svg", "logo.png", "logo.txt"):
        assert upload(client, article, svg, name).status_code == 400
    assert ctx.scalars(select(Attachment)).all() == []


def test_svg_is_never_served_inline(client, ctx, make, brand, article, uploads):
    """Even a row that claims SVG (older data, another channel) is a sandboxed download."""
    publish(ctx, article)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    digest = hashlib.sha256(svg).hexdigest()
    path = attachments.path_for(uploads, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(svg)
    att = Attachment(
        brand_id=brand.id,
        article_id=article.id,
        locale=None,
        sha256=digest,
        filename="logo.svg",
        content_type="image/svg+xml",
        size=len(svg),
    )
    ctx.add(att)
    ctx.commit()
    served = download(client, f"/files/{att.id}/logo.svg")
    assert served.status_code == 200
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].split(";")[0] == "sandbox"


def test_pdf_is_served_as_a_download(client, ctx, editor, article):
    upload(client, article, b"%PDF-1.7\n% test\n", "Guide.pdf")
    served = download(client, f"/files/{only_attachment(ctx).id}/Guide.pdf")
    assert served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["Cache-Control"] == "private, no-store"  # a draft's file


def test_oversize_upload_is_refused_beside_the_field_and_keeps_the_choice(
    app, client, ctx, editor, article, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    response = upload(client, article, png(b"x" * 2000), "big.png", shared=True, headers=HX)
    assert response.status_code == 400
    body = text(response)
    assert re.search(r'class="error" id="file-error">The file is larger than 1 KB.', body)
    assert re.search(r'<input checked id="shared"|<input[^>]*id="shared"[^>]*checked', body)
    assert ctx.scalars(select(Attachment)).all() == []


def test_file_of_10_mb_and_one_byte_is_refused_without_a_500(client, ctx, editor, article):
    data = png() + b"\x00" * (10 * 1024 * 1024 + 1 - len(png()))
    response = upload(client, article, data, "huge.png")
    assert response.status_code == 400
    assert "The file is larger than 10 MB." in text(response)


def test_refused_plain_post_is_a_whole_page_with_a_way_back(client, editor, article):
    response = upload(client, article, b"MZ\x90\x00binary", "tool.exe")
    assert response.status_code == 400
    body = text(response)
    assert "<html" in body and "This kind of file is not allowed" in body
    assert f'href="/admin/kb/articles/{article.id}/en">Back to the article' in body


def test_upload_without_a_file_asks_for_one(client, editor, article):
    response = client.post(f"/admin/kb/articles/{article.id}/en/attachments", data={}, headers=HX)
    assert response.status_code == 400
    assert "Choose a file to upload." in text(response)


def test_empty_file_is_refused(client, editor, article):
    response = upload(client, article, b"", "empty.txt", headers=HX)
    assert response.status_code == 400
    assert "The file is empty." in text(response)


def test_31st_file_is_refused(client, ctx, editor, article):
    for n in range(30):
        ctx.add(
            Attachment(
                brand_id=article.brand_id,
                article_id=article.id,
                locale="en",
                sha256="0" * 64,
                filename=f"{n}.png",
                content_type="image/png",
                size=10,
            )
        )
    ctx.commit()
    response = upload(client, article, png(b"31"), "31.png", headers=HX)
    assert response.status_code == 400
    assert "already has 30 files" in text(response)
    ctx.expire_all()
    assert len(ctx.scalars(select(Attachment)).all()) == 30


def test_stored_file_is_named_by_hash_mode_0600_and_the_name_is_not_on_disk(
    client, ctx, editor, article, uploads
):
    data = png(b"on disk")
    upload(client, article, data, "quarterly-secret.png")
    digest = hashlib.sha256(data).hexdigest()
    path = uploads / digest[:2] / digest
    assert path.read_bytes() == data
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(uploads).st_mode & 0o077 == 0
    assert not any("secret" in p.name for p in uploads.rglob("*"))
    assert only_attachment(ctx).sha256 == digest


def test_file_name_with_bidi_and_control_characters_is_cleaned(client, ctx, editor, article):
    upload(client, article, png(b"bidi"), "invoice\u202egnp.exe\x07.png")
    att = only_attachment(ctx)
    assert att.filename == "invoicegnp.exe.png"
    page = text(client.get(f"/admin/kb/articles/{article.id}/en"))
    assert "\u202e" not in page
    served = download(client, f"/files/{att.id}/x")
    assert "\u202e" not in served.headers["Content-Disposition"]


def test_file_name_is_escaped_in_the_list(client, ctx, editor, article):
    upload(client, article, png(b"xss"), "<img src=x onerror=alert(1)>.png")
    page = text(client.get(f"/admin/kb/articles/{article.id}/en"))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page


def test_delete_with_htmx_answers_the_fragment_and_removes_the_bytes(
    client, ctx, editor, article, uploads
):
    data = png(b"delete me")
    upload(client, article, data, "old.png")
    att = only_attachment(ctx)
    path = attachments.path_for(uploads, att.sha256)
    response = client.post(
        f"/admin/kb/articles/{article.id}/en/attachments/{att.id}/delete", headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in text(response) and "old.png deleted." in text(response)
    assert ctx.scalars(select(Attachment)).all() == []
    assert not path.exists()


def test_delete_without_js_redirects_back_to_the_editor(client, ctx, editor, article):
    upload(client, article, png(b"plain delete"), "old.png")
    att = only_attachment(ctx)
    response = client.post(f"/admin/kb/articles/{article.id}/en/attachments/{att.id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/kb/articles/{article.id}/en#attachments")


def test_delete_of_another_translations_own_file_is_404(client, ctx, editor, article):
    upload(client, article, png(b"ko own"), "ko.png", locale="ko")
    att = only_attachment(ctx)
    response = client.post(f"/admin/kb/articles/{article.id}/en/attachments/{att.id}/delete")
    assert response.status_code == 404
    assert only_attachment(ctx).id == att.id


def test_delete_through_another_article_is_404(client, ctx, make, editor, brand, article):
    other = make.article(make.section(make.category(brand)), status="draft")
    upload(client, article, png(b"elsewhere"), "mine.png")
    att = only_attachment(ctx)
    response = client.post(f"/admin/kb/articles/{other.id}/en/attachments/{att.id}/delete")
    assert response.status_code == 404


@pytest.mark.parametrize("headers", [{}, HX])
def test_editor_of_another_brand_cannot_upload_list_or_delete(
    client, ctx, make, login, article, headers
):
    att = Attachment(
        brand_id=article.brand_id,
        article_id=article.id,
        locale="en",
        sha256="1" * 64,
        filename="acme-only.png",
        content_type="image/png",
        size=1,
    )
    ctx.add(att)
    ctx.commit()
    login("editor", brands=[make.brand(slug="rival", locales=("en",))])
    assert upload(client, article, png(b"rival"), "x.png", headers=headers).status_code == 404
    assert client.get(f"/admin/kb/articles/{article.id}/en", headers=headers).status_code == 404
    response = client.post(
        f"/admin/kb/articles/{article.id}/en/attachments/{att.id}/delete", headers=headers
    )
    assert response.status_code == 404
    assert download(client, f"/files/{att.id}/acme-only.png").status_code == 404  # a draft's file
    ctx.expire_all()
    assert [a.filename for a in ctx.scalars(select(Attachment))] == ["acme-only.png"]


def test_anonymous_cannot_download_a_draft_articles_file_until_it_is_published(
    app, client, ctx, editor, article
):
    upload(client, article, png(b"draft"), "draft.png", shared=True)
    att = only_attachment(ctx)
    anonymous = app.test_client()
    assert download(anonymous, f"/files/{att.id}/draft.png").status_code == 404
    publish(ctx, article, "ko")
    served = download(anonymous, f"/files/{att.id}/draft.png")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "public" in served.headers["Cache-Control"]


def test_file_of_a_brand_that_is_not_public_is_404_for_visitors(app, client, ctx, make, login):
    brand = make.brand(slug="hidden", locales=("en",), status="draft")
    article = make.article(make.section(make.category(brand)), status="published")
    login("editor", brands=[brand])
    upload(client, article, png(b"hidden"), "h.png")
    att = only_attachment(ctx)
    assert download(client, f"/files/{att.id}/h.png").status_code == 200  # its editor previews it
    assert app.test_client().get(f"/files/{att.id}/h.png").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/files/999999/x.png",
        "/files/99999999999999999999/x.png",
        "/files/0/x.png",
        "/files/abc/x.png",
    ],
)
def test_unknown_attachment_is_404(client, path):
    assert download(client, path).status_code == 404


def test_missing_bytes_are_404_not_500(client, ctx, brand, article):
    publish(ctx, article)
    att = Attachment(
        brand_id=brand.id,
        article_id=article.id,
        locale=None,
        sha256="2" * 64,
        filename="gone.png",
        content_type="image/png",
        size=1,
    )
    ctx.add(att)
    ctx.commit()
    assert download(client, f"/files/{att.id}/gone.png").status_code == 404


def test_upload_to_a_language_the_brand_does_not_have_is_404(client, editor, article):
    assert upload(client, article, png(b"fr"), "fr.png", locale="fr").status_code == 404


@pytest.fixture
def csrf_client(app, tmp_path_factory):
    config = _test_config(tmp_path_factory, WTF_CSRF_ENABLED=True)
    config["DATABASE_URL"] = app.config["DATABASE_URL"]
    csrf_app = create_app(config)
    yield csrf_app.test_client()
    with csrf_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_upload_without_csrf_token_is_refused(csrf_client, ctx, make, brand, article):
    user = make.user(role="editor", brands=[brand], password="correct horse battery")
    page = text(csrf_client.get("/login"))
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    token = (
        token.group(1)
        if token
        else re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page).group(1)
    )
    csrf_client.post(
        "/login",
        data={"email": user.email, "password": "correct horse battery", "csrf_token": token},
    )
    response = upload(csrf_client, article, png(b"csrf"), "csrf.png")
    assert response.status_code == 400
    assert ctx.scalars(select(Attachment)).all() == []


def test_delete_keeps_the_bytes_a_ticket_file_uses(client, ctx, make, editor, article, uploads):
    """Ticket files share the content-addressed folder: deleting an article's copy of the
    same bytes (of any brand) must not take them from the ticket."""
    data = png(b"also in a ticket")
    upload(client, article, data, "guide.png")
    att = only_attachment(ctx)
    other = make.brand(slug="elsewhere")
    ctx.add(
        TicketFile(
            brand_id=other.id,
            submission_key="k" * 32,
            token="t" * 32,
            filename="receipt.png",
            content_type="image/png",
            size=len(data),
            sha256=att.sha256,
        )
    )
    ctx.commit()
    path = attachments.path_for(uploads, att.sha256)
    client.post(f"/admin/kb/articles/{article.id}/en/attachments/{att.id}/delete")
    assert ctx.scalars(select(Attachment)).all() == []
    assert path.exists()
