"""Customisation: a brand's help-center theme, its mail template, the back office's top bar."""

import io
import struct
import zlib

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kb.models import Brand, Organization
from portal.desk.models import OutboxMail
from portal.mail.models import MailTemplate
from portal.security.models import AuditEntry


def png(width=2, height=1, seed=0) -> bytes:
    """A real PNG (each seed a different one)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes([seed % 256, 0, 0]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


ICO = b"\x00\x00\x01\x00\x01\x00" + b"\x10\x10\x00\x00\x01\x00\x20\x00" + b"\x00" * 40


def theme_data(**overrides) -> dict:
    data = {"primary_color": "#1f4e79", "accent_color": "#f2a900", "action": "save"}
    for i in range(5):
        data[f"header_links-{i}-text"] = ""
        data[f"header_links-{i}-url"] = ""
    data.update(overrides)
    return data


def post_theme(client, brand, **overrides):
    return client.post(
        f"/admin/brands/{brand.slug}/theme",
        data=theme_data(**overrides),
        content_type="multipart/form-data",
    )


def audit_actions(ctx) -> list[str]:
    ctx.expire_all()
    return list(
        ctx.scalars(
            select(AuditEntry.action).where(AuditEntry.kind == "audit").order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def brand(make):
    return make.brand(slug="hanbit", name="Hanbit", locales=("en", "ko"))


# -- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/admin/brands", "/admin/brands/hanbit/theme", "/admin/brands/hanbit/mail-template"],
)
def test_editors_without_settings_are_refused(client, login, brand, path):
    login("editor", brands=[brand])
    assert client.get(path).status_code == 403


def test_branding_is_for_members_with_settings_on_every_brand(client, login, brand):
    login("editor", brands=[brand])
    assert client.get("/admin/branding").status_code == 403


def test_unknown_brand_is_404(client, login, brand):
    login("admin")
    assert client.get("/admin/brands/nobody/theme").status_code == 404
    assert client.get("/admin/brands/nobody/mail-template").status_code == 404


def test_brand_list_links_to_each_brands_pages(client, login, brand):
    login("admin")
    page = client.get("/admin/brands").get_data(as_text=True)
    assert 'href="/admin/brands/hanbit/theme"' in page
    assert 'href="/admin/brands/hanbit/mail-template"' in page


# -- the theme ----------------------------------------------------------------------------------


def test_saved_theme_shows_on_the_help_center(client, ctx, login, brand):
    login("admin")
    first = client.get("/hanbit/en/").get_data(as_text=True)
    assert "--brand: #1f4e79" in first
    version = brand.content_version
    response = post_theme(
        client,
        brand,
        primary_color="#0B5D3B",
        accent_color="#ffcc00",
        logo=(io.BytesIO(png()), "logo.png"),
        favicon=(io.BytesIO(ICO), "favicon.ico"),
        **{"header_links-0-text": "Status", "header_links-0-url": "https://status.example.com/"},
    )
    assert response.status_code == 303
    ctx.expire_all()
    saved = ctx.get(Brand, brand.id)
    assert saved.primary_color == "#0b5d3b" and saved.content_version > version
    page = client.get("/hanbit/en/").get_data(as_text=True)
    assert "--brand: #0b5d3b" in page and "--accent: #ffcc00" in page
    assert 'href="https://status.example.com/" rel="noopener noreferrer"' in page
    logo = f"/theme-files/{saved.logo_sha256}.png"
    assert f'src="{logo}"' in page
    assert f'<link rel="icon" href="/theme-files/{saved.favicon_sha256}.ico">' in page
    served = client.get(logo)
    assert served.status_code == 200 and served.data == png()
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()
    assert audit_actions(ctx) == ["brand.theme_changed"]


def test_preview_shows_unsaved_values_and_saves_nothing(client, ctx, login, brand):
    login("admin")
    response = post_theme(
        client,
        brand,
        action="preview",
        primary_color="#5a189a",
        logo=(io.BytesIO(png(seed=7)), "new.png"),
        **{"header_links-0-text": "Blog", "header_links-0-url": "https://blog.example.com/"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "--brand: #5a189a" in page
    assert 'href="https://blog.example.com/"' in page
    assert 'src="data:image/png;base64,' in page
    assert "nothing has been saved" in page
    ctx.expire_all()
    saved = ctx.get(Brand, brand.id)
    assert saved.primary_color == "#1f4e79" and saved.logo_sha256 is None
    assert saved.header_links is None and saved.content_version == brand.content_version
    assert audit_actions(ctx) == []
    assert "--brand: #1f4e79" in client.get("/hanbit/en/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("logo.exe", png()),  # a PNG under another name
        ("logo.png", b"<html><script>alert(1)</script></html>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("logo.png", b"<svg onload=alert(1)>"),
        ("logo.jpg", png()),  # the name says JPEG, the content PNG
    ],
)
def test_logo_that_is_not_an_allowed_image_is_refused(client, ctx, login, brand, filename, content):
    login("admin")
    response = post_theme(
        client, brand, primary_color="#123456", logo=(io.BytesIO(content), filename)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Upload a PNG, JPEG or WebP image" in page
    assert 'value="#123456"' in page  # what was typed is kept
    ctx.expire_all()
    assert ctx.get(Brand, brand.id).logo_sha256 is None
    assert ctx.get(Brand, brand.id).primary_color == "#1f4e79"


def test_too_large_logo_is_refused(client, login, brand):
    login("admin")
    big = png() + b"\x00" * (600 * 1024)
    form = {**theme_data(), "logo": FileStorage(io.BytesIO(big), filename="logo.png")}
    # Encoded in memory: the test client's own encoder leaves a temporary file open.
    boundary, body = encode_multipart(form)
    response = client.post(
        f"/admin/brands/{brand.slug}/theme",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert "larger than 512 KB" in response.get_data(as_text=True)


def test_favicon_must_be_png_or_ico(client, login, brand):
    login("admin")
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 20
    response = post_theme(client, brand, favicon=(io.BytesIO(jpeg), "icon.jpg"))
    assert response.status_code == 400
    assert "Upload a PNG or ICO icon" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("primary", "message"),
    [
        ("#ffd700", "White text on this colour would be hard to read"),
        ("red", "Give a colour as # and six hex digits"),
        ("#12345", "Give a colour as # and six hex digits"),
        ("#1f4e79;}body{display:none", "Give a colour as # and six hex digits"),
    ],
)
def test_unreadable_or_malformed_colours_are_refused(client, ctx, login, brand, primary, message):
    login("admin")
    response = post_theme(client, brand, primary_color=primary)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    ctx.expire_all()
    assert ctx.get(Brand, brand.id).primary_color == "#1f4e79"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example.com/",
        "/relative",
        "ftp://files.example.com/",
    ],
)
def test_header_link_must_be_http_or_https(client, ctx, login, brand, url):
    login("admin")
    response = post_theme(client, brand, **{"header_links-1-text": "Go", "header_links-1-url": url})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give a full address starting with https://" in page
    ctx.expire_all()
    assert ctx.get(Brand, brand.id).header_links is None


def test_header_link_labels_are_escaped(client, ctx, login, brand):
    login("admin")
    label = "<img src=x onerror=alert(1)>"
    post_theme(
        client,
        brand,
        **{"header_links-0-text": label, "header_links-0-url": "https://a.example/?q=<b>"},
    )
    page = client.get("/hanbit/en/").get_data(as_text=True)
    assert label not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="https://a.example/?q=%3Cb%3E"' in page or "q=&lt;b&gt;" in page


def test_a_stored_javascript_link_is_never_shown(client, ctx, brand):
    brand.header_links = [{"label": "Evil", "url": "javascript:alert(1)"}]
    ctx.commit()
    page = client.get("/hanbit/en/").get_data(as_text=True)
    assert "javascript:alert(1)" not in page and ">Evil<" not in page


def test_link_with_a_url_but_no_label_keeps_both_fields(client, login, brand):
    login("admin")
    response = post_theme(client, brand, **{"header_links-2-url": "https://docs.example.com/"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the link a label." in page
    assert 'value="https://docs.example.com/"' in page


def test_removing_the_logo_stops_serving_it(client, ctx, login, brand):
    login("admin")
    post_theme(client, brand, logo=(io.BytesIO(png(seed=3)), "logo.png"))
    ctx.expire_all()
    sha = ctx.get(Brand, brand.id).logo_sha256
    served = client.get(f"/theme-files/{sha}.png")
    assert served.status_code == 200
    served.close()
    assert post_theme(client, brand, remove_logo="y").status_code == 303
    assert client.get(f"/theme-files/{sha}.png").status_code == 404
    assert client.get(f"/theme-files/{sha}.ico").status_code == 404


def test_theme_files_not_in_use_are_404(client):
    assert client.get("/theme-files/" + "a" * 64 + ".png").status_code == 404
    assert client.get("/theme-files/../etc.png").status_code == 404


def test_theme_form_error_as_htmx_fragment_is_whole_form(client, login, brand):
    login("admin")
    response = client.post(
        f"/admin/brands/{brand.slug}/theme",
        data=theme_data(primary_color="nope"),
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert 'value="nope"' in response.get_data(as_text=True)


# -- the mail template --------------------------------------------------------------------------


def mail_data(**overrides) -> dict:
    data = {"header": "", "show_logo": "y", "footer": "", "action": "save"}
    data.update(overrides)
    return data


def test_mail_template_is_saved_per_locale_and_used_by_mails(client, ctx, login, brand, app):
    login("admin")
    response = client.post(
        "/admin/brands/hanbit/mail-template?locale=ko",
        data=mail_data(header="언제나 곁에", footer="서울시 중구\n평일 9-18시"),
    )
    assert response.status_code == 303
    row = ctx.scalar(select(MailTemplate).where(MailTemplate.brand_id == brand.id))
    assert (row.locale, row.header, row.footer) == ("ko", "언제나 곁에", "서울시 중구\n평일 9-18시")
    assert audit_actions(ctx) == ["brand.mail_template_changed"]
    page = client.get("/admin/brands/hanbit/mail-template?locale=ko").get_data(as_text=True)
    assert 'value="언제나 곁에"' in page

    from portal.mail.compose import queue_mail

    with app.test_request_context():
        from portal.extensions import db

        ticket = type("T", (), {"id": 5, "subject": "결제", "requester_name": "민지"})()
        for locale in ("ko", "en"):
            queue_mail(
                db.session,
                "request_received",
                brand=db.session.get(Brand, brand.id),
                locale=locale,
                to="minji@example.test",
                ticket=ticket,
                link="https://help.test/hanbit/ko/requests/5",
            )
        db.session.commit()
    ko, en = ctx.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert "언제나 곁에" in ko.text_body and "서울시 중구\n평일 9-18시" in ko.text_body
    assert "서울시 중구<br>평일 9-18시" in ko.html_body
    assert "언제나 곁에" not in en.text_body  # the English mails keep their own (none)


def test_mail_template_footer_is_escaped(client, login, brand):
    login("admin")
    response = client.post(
        "/admin/brands/hanbit/mail-template",
        data=mail_data(action="preview", footer="<script>alert(1)</script> **bold**"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in page
    # Escaped once in the mail, once more in the frame's srcdoc attribute.
    assert "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;" in page


def test_mail_preview_shows_both_parts_and_saves_nothing(client, ctx, login, brand):
    login("admin")
    response = client.post(
        "/admin/brands/hanbit/mail-template?locale=en",
        data=mail_data(action="preview", header="Always here", footer="Hanbit Ltd, Seoul"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Request #1234 received" in page
    assert "Always here" in page and "Hanbit Ltd, Seoul" in page
    assert "<iframe sandbox" in page
    assert ctx.scalar(select(MailTemplate)) is None
    assert audit_actions(ctx) == []


def test_mail_template_without_logo_leaves_it_out(client, ctx, login, brand):
    brand.logo_url = "https://cdn.example.com/logo.png"
    ctx.commit()
    login("admin")
    with_logo = client.post(
        "/admin/brands/hanbit/mail-template", data=mail_data(action="preview")
    ).get_data(as_text=True)
    without = client.post(
        "/admin/brands/hanbit/mail-template",
        data={"header": "", "footer": "", "action": "preview"},
    ).get_data(as_text=True)
    assert "https://cdn.example.com/logo.png" in with_logo
    assert "https://cdn.example.com/logo.png" not in without


def test_mail_template_too_long_keeps_values(client, ctx, login, brand):
    login("admin")
    response = client.post(
        "/admin/brands/hanbit/mail-template", data=mail_data(header="x" * 201, footer="kept")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This is too long." in page and "kept</textarea>" in page
    assert ctx.scalar(select(MailTemplate)) is None


def test_mail_template_for_a_locale_the_brand_lacks_is_404(client, login, brand):
    login("admin")
    assert client.get("/admin/brands/hanbit/mail-template?locale=ja").status_code == 404


def test_test_send_goes_to_the_members_own_address_through_the_outbox(client, ctx, login, brand):
    user = login("admin", email="owner@example.test")
    response = client.post(
        "/admin/brands/hanbit/mail-template?locale=en",
        data=mail_data(action="test", header="Testing header", to="attacker@example.test"),
    )
    assert response.status_code == 303
    mails = ctx.scalars(select(OutboxMail)).all()
    assert [m.recipient for m in mails] == [user.email]
    assert "Testing header" in mails[0].text_body
    assert ctx.scalar(select(MailTemplate)) is None  # a test send saves nothing


# -- the back office's top bar ------------------------------------------------------------------


def test_backoffice_name_and_logo_show_in_the_top_bars(client, ctx, login, brand):
    login("admin")
    response = client.post(
        "/admin/branding",
        data={"name": "Hanbit Support", "logo": (io.BytesIO(png(seed=9)), "top.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    org = ctx.scalar(select(Organization))
    ctx.refresh(org)
    assert org.backoffice_name == "Hanbit Support"
    logo = f"/theme-files/{org.backoffice_logo_sha256}.png"
    for page in ("/admin/kb/", "/agent/"):
        html = client.get(page, follow_redirects=True).get_data(as_text=True)
        assert "<span>Hanbit Support</span>" in html and f'src="{logo}"' in html, page
    served = client.get(logo)
    assert served.status_code == 200
    served.close()
    assert audit_actions(ctx) == ["organization.branding_changed"]


def test_backoffice_logo_html_is_refused(client, ctx, login, brand):
    login("admin")
    response = client.post(
        "/admin/branding",
        data={"name": "Kept name", "logo": (io.BytesIO(b"<html></html>"), "top.png")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Upload a PNG, JPEG or WebP image" in page and 'value="Kept name"' in page
    org = ctx.scalar(select(Organization))
    ctx.refresh(org)
    assert org.backoffice_name is None
