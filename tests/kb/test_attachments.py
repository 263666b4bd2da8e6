"""kb.attachments without Flask: the validator, hash storage, listing, deletion, visibility."""

import hashlib
import io
import os
import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import attachments, clock
from kb.attachments import Limits, clean_filename, content_type_for, normalised_name, sniff
from kb.models import Attachment, Translation


def png(extra: bytes = b"") -> bytes:
    """A real 1x1 PNG; `extra` goes into a text chunk so each test can have its own content."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"Comment\x00" + extra)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def article(make):
    brand = make.brand(locales=("en", "ko"))
    return make.article(make.section(make.category(brand)), status="draft")


def put(session, tmp_path, article, data, name, locale="en", limits=None):
    return attachments.store(
        session,
        tmp_path,
        article.brand_id,
        article.id,
        locale,
        io.BytesIO(data),
        name,
        None,
        clock.now(),
        limits or Limits(),
    )


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (png(), "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        ("이름,금액\n커피,4500\n".encode(), "text/plain"),
    ],
)
def test_sniff_recognises_allowed_types_by_their_bytes(head, kind):
    assert sniff(head) == kind


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script>",
        b"  <html><body onload=alert(1)>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'\xef\xbb\xbf<?xml version="1.0"?><svg/>',
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        b"PK\x03\x04\x14\x00",  # a zip archive
        b"plain text with a NUL\x00 in it",
        b"\xff\xfe not utf-8",
        b"",
    ],
)
def test_sniff_refuses_markup_executables_archives_and_binary(head):
    assert sniff(head) is None


def test_html_file_renamed_png_is_not_allowed():
    assert content_type_for(sniff(b"<html><script>alert(1)</script>"), "cat.png") is None


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (png(), "photo.txt"),
        (b"%PDF-1.4", "scan.png"),
        (png(), "photo.svg"),
        (b"just text", "page.html"),
        (b"just text", "script.js"),
        (png(), "no-extension"),
        (png(), ".png"),
    ],
)
def test_content_and_name_must_agree(head, name):
    assert content_type_for(sniff(head), name) is None


@pytest.mark.parametrize(
    ("head", "name", "kind"),
    [
        (png(), "Screen Shot.PNG", "image/png"),
        (png(), "photo.png. . .", "image/png"),
        (b"\xff\xd8\xff\xdb", "photo.JPEG", "image/jpeg"),
        (b"a,b\n1,2\n", "table.csv", "text/csv"),
        (b"started\nstopped\n", "server.log", "text/plain"),
    ],
)
def test_type_comes_from_the_content_confirmed_by_the_normalised_name(head, name, kind):
    assert content_type_for(sniff(head), name) == kind


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override
        ("report\u2066\u2069 final.pdf", "report final.pdf"),  # bidi isolates
        ("zero\u200bwidth\ufeff.png", "zerowidth.png"),
        ("bell\x07and\nnewline\r.txt", "bellandnewline.txt"),
        ("tab\there.txt", "tabhere.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\kim\\사진.png", "사진.png"),
        ("ｒｅｐｏｒｔ．ｐｎｇ", "report.png"),  # fullwidth letters, NFKC
        ("  spaced   out  .png ..", "spaced out .png"),
        ("...", "file"),
        ("", "file"),
        (None, "file"),
    ],
)
def test_clean_filename_strips_control_bidi_and_zero_width_characters(raw, clean):
    assert clean_filename(raw) == clean


def test_clean_filename_keeps_the_extension_of_a_very_long_name():
    cleaned = clean_filename("a" * 500 + ".png")
    assert len(cleaned) <= attachments.MAX_NAME_CHARS and cleaned.endswith(".png")


def test_normalised_name_is_lower_case_without_trailing_dots_or_spaces():
    assert normalised_name("Photo.PNG. ") == "photo.png"
    assert normalised_name("evil.html.") == "evil.html"


def test_limits_default_to_10_mb_30_files_and_100_mb_per_article():
    assert Limits() == Limits(10 * 1024 * 1024, 30, 100 * 1024 * 1024)


def test_validate_returns_each_problem_as_a_code():
    assert attachments.validate(0, "image/png", 0, 0) == ["empty"]
    assert attachments.validate(11 * 1024 * 1024, None, 30, 0) == [
        "too_large",
        "type_not_allowed",
        "too_many",
    ]
    assert attachments.validate(5, "image/png", 3, 100 * 1024 * 1024) == ["total_too_large"]
    assert attachments.validate(5, "image/png", 29, 0) == []


def test_stored_file_is_named_by_hash_with_mode_0600(session, make, article, tmp_path):
    data = png(b"hash-test")
    result = put(session, tmp_path, article, data, "secret-plans.png")
    assert result.ok
    att = result.attachment
    digest = hashlib.sha256(data).hexdigest()
    path = tmp_path / digest[:2] / digest
    assert att.sha256 == digest and path.read_bytes() == data
    assert os.stat(path).st_mode & 0o777 == 0o600
    on_disk = [p.name for p in tmp_path.rglob("*")]
    assert not any("secret" in name for name in on_disk)
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".upload-")] == []


def test_same_content_uploaded_twice_is_stored_once(session, article, tmp_path):
    data = png(b"twice")
    first = put(session, tmp_path, article, data, "one.png").attachment
    second = put(session, tmp_path, article, data, "two.png", locale=None).attachment
    assert first.id != second.id and first.sha256 == second.sha256
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


class CountingStream(io.BytesIO):
    read_bytes = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk


def test_oversize_file_is_refused_without_reading_it_all(session, article, tmp_path):
    stream = CountingStream(png() + b"\x00" * (3 * 1024 * 1024))
    result = attachments.store(
        session,
        tmp_path,
        article.brand_id,
        article.id,
        "en",
        stream,
        "big.png",
        None,
        clock.now(),
        Limits(file_bytes=1024 * 1024),
    )
    assert result.errors == {"file": ["too_large"]}
    assert stream.read_bytes < 2 * 1024 * 1024
    assert session.scalars(select(Attachment)).all() == []
    assert list(tmp_path.rglob("*")) == []  # the temporary file is gone too


def test_file_of_exactly_the_cap_is_accepted(session, article, tmp_path):
    data = png()
    assert put(session, tmp_path, article, data, "a.png", limits=Limits(file_bytes=len(data))).ok


def test_empty_file_is_refused(session, article, tmp_path):
    assert put(session, tmp_path, article, b"", "empty.txt").errors == {"file": ["empty"]}


def test_text_with_bad_utf8_after_the_head_is_refused(session, article, tmp_path):
    data = b"ok line\n" * 2000 + b"\xff\xfe broken"
    assert len(data) > attachments.HEAD_BYTES
    assert put(session, tmp_path, article, data, "notes.txt").errors == {
        "file": ["type_not_allowed"]
    }


def test_31st_file_of_an_article_is_refused(session, article, tmp_path):
    for n in range(30):
        assert put(session, tmp_path, article, png(b"%d" % n), f"{n}.png", locale=None).ok
    result = put(session, tmp_path, article, png(b"31"), "31.png")
    assert result.errors == {"file": ["too_many"]}
    assert len(session.scalars(select(Attachment)).all()) == 30


def test_total_per_article_is_capped(session, article, tmp_path):
    limits = Limits(file_bytes=10_000, files_per_article=30, bytes_per_article=len(png()) * 2)
    assert put(session, tmp_path, article, png(), "1.png", limits=limits).ok
    assert put(session, tmp_path, article, png(), "2.png", limits=limits).ok
    result = put(session, tmp_path, article, png(b"x"), "3.png", limits=limits)
    assert result.errors == {"file": ["total_too_large"]}


def test_translation_lists_its_own_files_and_shared_ones(session, article, tmp_path):
    own = put(session, tmp_path, article, png(b"en"), "en.png", locale="en").attachment
    shared = put(session, tmp_path, article, png(b"all"), "all.png", locale=None).attachment
    other = put(session, tmp_path, article, png(b"ko"), "ko.png", locale="ko").attachment
    assert [a.id for a in attachments.for_article(session, article.id, "en")] == [own.id, shared.id]
    assert [a.id for a in attachments.for_article(session, article.id, "ko")] == [
        shared.id,
        other.id,
    ]


def test_delete_keeps_the_bytes_while_another_row_uses_them(session, article, tmp_path):
    data = png(b"shared bytes")
    first = put(session, tmp_path, article, data, "a.png").attachment
    second = put(session, tmp_path, article, data, "b.png").attachment
    path = attachments.path_for(tmp_path, first.sha256)
    attachments.delete(session, tmp_path, first)
    assert path.exists()
    attachments.delete(session, tmp_path, second)
    assert not path.exists()
    assert session.scalars(select(Attachment)).all() == []


def _publish(session, article, locale):
    t = session.scalar(
        select(Translation).where(
            Translation.article_id == article.id, Translation.locale == locale
        )
    )
    t.status, t.publish_at = "published", clock.now() - timedelta(minutes=1)
    session.commit()


def test_shared_file_is_public_once_any_translation_is_visible(session, article, tmp_path):
    att = put(session, tmp_path, article, png(b"s"), "s.png", locale=None).attachment
    assert not attachments.is_public(session, att, clock.now())
    _publish(session, article, "ko")
    assert attachments.is_public(session, att, clock.now())


def test_translations_own_file_stays_private_while_that_translation_is_a_draft(
    session, article, tmp_path
):
    att = put(session, tmp_path, article, png(b"draft shot"), "new-ui.png", locale="ko").attachment
    _publish(session, article, "en")
    assert not attachments.is_public(session, att, clock.now())
    _publish(session, article, "ko")
    assert attachments.is_public(session, att, clock.now())


def test_file_of_a_brand_that_is_not_public_is_private(session, make, tmp_path):
    brand = make.brand(status="draft")
    article = make.article(make.section(make.category(brand)), status="published")
    att = put(session, tmp_path, article, png(), "p.png", locale=None).attachment
    assert not attachments.is_public(session, att, clock.now())


def test_path_for_refuses_anything_but_a_hex_digest(tmp_path):
    with pytest.raises(ValueError):
        attachments.path_for(tmp_path, "../../etc/passwd")
