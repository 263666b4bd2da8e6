"""parse(): real-world mail from tests/mail/ read into decoded headers, text, safe HTML and files;
hostile input gives a ParseError or a note, never a crash or a hang."""

import base64
import quopri
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from portal.mail.inbound.parse import ParseError, parse

CORPUS = Path(__file__).resolve().parents[2] / "mail"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_corpus_is_what_the_generator_writes():
    from tests.mail.make_corpus import corpus as generated

    files = generated()
    assert sorted(files) == sorted(p.name for p in CORPUS.glob("*.eml"))
    for name, data in files.items():
        assert corpus(name) == data, name
        assert b"\n" not in data.replace(b"\r\n", b""), f"{name} has bare LF line ends"


def test_plain_utf8_headers_addresses_and_quoted_printable_body():
    mail = parse(corpus("plain_utf8.eml"))
    assert mail.subject == "Kan inte logga in"
    assert mail.sender.name == "Anna Åkesson"
    assert mail.sender.email == "anna@example.se"
    assert [a.email for a in mail.to] == ["support@hanbit.test"]
    assert [(a.name, a.email) for a in mail.cc] == [
        ("", "lars@example.se"),
        ("Berg, Lars", "lars.berg@example.se"),
    ]
    assert mail.message_id == "<a1b2c3@mail.example.se>"
    assert mail.date == datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
    assert "Lösenordet är rätt – det står ”fel lösenord” ändå." in mail.text
    assert mail.html is None
    assert mail.notes == []


def test_euc_kr_body_and_encoded_words():
    mail = parse(corpus("euc_kr.eml"))
    assert mail.subject == "결제 문의"
    assert mail.sender.name == "김민지"
    assert mail.text == "안녕하세요. 결제가 안 돼요.\n카드 등록 화면에서 멈춥니다."


def test_ks_c_5601_1987_is_read_as_cp949_with_characters_outside_euc_kr():
    mail = parse(corpus("ks_c_5601.eml"))
    assert mail.subject == "똠방각하 환불"
    assert mail.sender.name == "박똠"
    assert mail.text == "똠방각하님, 햏 환불 부탁드립니다."
    assert "\ufffd" not in mail.text + mail.subject
    assert mail.notes == []  # a known label, not a guess


def test_iso_2022_jp():
    mail = parse(corpus("iso_2022_jp.eml"))
    assert mail.subject == "請求書について"
    assert mail.sender.name == "山田太郎"
    assert mail.text == "お世話になっております。\n請求書の件でご連絡しました。"


def test_shift_jis():
    mail = parse(corpus("shift_jis.eml"))
    assert mail.subject == "ログインできません"
    assert mail.text == "パスワードを忘れました。よろしくお願いします。"


def test_windows_1252_without_any_charset_is_guessed_with_a_note():
    mail = parse(corpus("windows_1252_no_charset.eml"))
    assert mail.text == "The “Pro” plan costs 10€ – is that right? Merci, José."
    assert mail.sender.name == "José"
    assert "charset fallback windows-1252 for text/plain part" in mail.notes


def test_wrong_declared_charset_falls_back_without_replacement_characters():
    raw = (
        b"From: a@example.kr\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "똠방각하".encode("cp949")
    )
    mail = parse(raw)
    assert mail.text == "똠방각하"
    assert "charset fallback cp949 (declared utf-8) for text/plain part" in mail.notes


def test_subject_split_across_encoded_words_in_two_languages():
    mail = parse(corpus("subject_split_words.eml"))
    # The first two words each hold part of one Korean character's bytes.
    assert mail.subject == "환불 요청 / Återbetalning för månad"


def test_raw_8bit_utf8_subject_is_read():
    assert parse(corpus("subject_raw_utf8.eml")).subject == "비밀번호 재설정이 안 돼요"
    assert parse(corpus("subject_raw_utf8.eml")).sender.name == "이서준"


def test_raw_8bit_euc_kr_subject_is_decoded_where_the_email_package_gives_replacements():
    raw = corpus("subject_raw_euc_kr.eml")
    assert "\ufffd" in str(BytesParser(policy=policy.default).parsebytes(raw)["subject"])
    assert parse(raw).subject == "배송 지연 문의"


def test_raw_euc_kr_subject_is_noted_as_a_guess():
    assert (
        "charset fallback cp949 for raw 8-bit header"
        in parse(corpus("subject_raw_euc_kr.eml")).notes
    )


def test_rfc2231_file_name_with_continuations():
    mail = parse(corpus("filename_rfc2231.eml"))
    assert mail.text == "Kvittot bifogas."
    [pdf] = mail.attachments
    assert pdf.filename == "Kvitto för årsavgift 2026.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.data == b"%PDF-1.4\n% receipt\n"
    assert not pdf.inline


def test_unquoted_encoded_word_file_name_where_the_email_package_gives_none():
    raw = corpus("filename_unquoted_encoded_word.eml")
    parts = list(BytesParser(policy=policy.default).parsebytes(raw).iter_attachments())
    assert parts[0].get_filename() is None
    [sheet] = parse(raw).attachments
    assert sheet.filename == "견적서_2026.xls"
    assert sheet.data.startswith(b"\xd0\xcf\x11\xe0")


def test_html_only_mail_is_sanitised_and_gives_text():
    mail = parse(corpus("html_only_hostile.eml"))
    assert "<script" not in mail.html and "document.cookie" not in mail.html
    assert "onclick" not in mail.html and "onload" not in mail.html
    assert "<style" not in mail.html and "color:red" not in mail.html
    assert "tracker.example.com" not in mail.html and "<img" not in mail.html
    assert "javascript:" not in mail.html
    assert '<a href="https://shop.example.com/orders/123"' in mail.html
    assert mail.text.startswith("Hello,\n\nMy order #123 has not arrived.\nDetails:")
    assert "- Blue mug\n- Red plate" in mail.text
    assert "Order page (https://shop.example.com/orders/123)" in mail.text
    assert "steal" not in mail.text and "Order\n" not in mail.text


def test_multipart_alternative_gives_both_text_and_html():
    mail = parse(corpus("alternative.eml"))
    assert mail.text == "Fakturan för december saknas."
    assert mail.html == "<p>Fakturan för <b>december</b> saknas.</p>"
    assert mail.attachments == []


def test_related_inline_image_keeps_its_cid_reference():
    mail = parse(corpus("related_inline_image.eml"))
    [image] = mail.attachments
    assert image.inline and image.content_id == "shot1@example.com"
    assert image.content_type == "image/png"
    assert image.filename == "attachment-1.png"
    assert image.data.startswith(b"\x89PNG")
    assert '<img src="cid:shot1@example.com" alt="error">' in mail.html


def test_nested_message_becomes_an_eml_named_after_its_subject():
    mail = parse(corpus("nested_rfc822.eml"))
    assert mail.text == "Forwarding the receipt."
    [forwarded] = mail.attachments
    assert forwarded.filename == "Your receipt 2026-118.eml"
    assert forwarded.content_type == "message/rfc822"
    inner = parse(forwarded.data)
    assert inner.subject == "Your receipt 2026-118"
    assert inner.text == "Total: 120 SEK"


def test_winmail_dat_is_unpacked_into_its_files():
    mail = parse(corpus("winmail_dat.eml"))
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("avtal.txt", "text/plain"),
        ("logo.png", "image/png"),
    ]
    assert mail.attachments[0].data == b"Avtal 2026\r\n"
    assert mail.attachments[1].data.startswith(b"\x89PNG")
    assert "winmail.dat unpacked into 2 file(s)" in mail.notes


def test_unreadable_winmail_dat_is_kept_as_it_is():
    raw = corpus("winmail_dat.eml")
    start = raw.index(b"Content-Transfer-Encoding: base64\r\n\r\n") + 37
    end = raw.index(b"--tnef--")
    broken = raw[:start] + base64.encodebytes(b"not a TNEF stream").replace(b"\n", b"\r\n")
    mail = parse(broken + raw[end:])
    [winmail] = mail.attachments
    assert winmail.filename == "winmail.dat"
    assert winmail.content_type == "application/ms-tnef"
    assert "winmail.dat could not be unpacked (ValueError); kept" in mail.notes


def test_winmail_dat_without_files_is_kept_as_it_is():
    from tests.mail.make_corpus import tnef

    raw = corpus("winmail_dat.eml")
    start = raw.index(b"Content-Transfer-Encoding: base64\r\n\r\n") + 37
    end = raw.index(b"--tnef--")
    empty = base64.encodebytes(tnef([])).replace(b"\n", b"\r\n")
    mail = parse(raw[:start] + empty + raw[end:])
    assert [a.filename for a in mail.attachments] == ["winmail.dat"]
    assert "winmail.dat holds no files; kept" in mail.notes


def test_missing_closing_boundary_keeps_every_part_and_says_so():
    mail = parse(corpus("broken_boundary.eml"))
    assert mail.text == "The first part arrives."
    [log] = mail.attachments
    assert log.filename == "log.txt"
    assert log.data.replace(b"\r\n", b"\n").startswith(b"line one of the log\nline two")
    assert "MIME repair: CloseBoundaryNotFoundDefect" in mail.notes


def test_ten_thousand_character_line_is_kept_whole():
    mail = parse(corpus("long_line.eml"))
    assert mail.text == "start:" + "x" * 10_000 + ":end\nafter the long line"


def test_reply_headers_give_message_ids_in_order():
    mail = parse(corpus("reply_quoted_signature.eml"))
    assert mail.message_id == "<CAB=reply.1@mail.gmail.com>"
    assert mail.in_reply_to == ["<out.42@hanbit.test>"]
    assert mail.references == ["<req.41@example.se>", "<out.42@hanbit.test>"]
    assert mail.to[0].email == "support+t42.abcdef@hanbit.test"


def test_missing_message_id_is_none_with_a_note():
    mail = parse(corpus("no_message_id.eml"))
    assert mail.message_id is None
    assert "no usable Message-ID" in mail.notes
    assert mail.text == "Sent by a mailer that adds no Message-ID."


def test_malformed_message_id_is_none():
    assert parse(b"From: a@example.com\r\nMessage-ID: not an id\r\n\r\nx").message_id is None


def test_missing_from_gives_an_empty_sender():
    mail = parse(corpus("no_from.eml"))
    assert mail.sender.email == "" and mail.sender.name == ""
    assert "no From address" in mail.notes
    assert mail.subject == "Who am I"


def test_unusable_from_address_is_empty_but_the_name_is_kept():
    mail = parse(b"From: Kim <not an address>\r\n\r\nx")
    assert mail.sender.email == ""


def test_headers_are_decoded_lower_case_and_kept_in_order():
    mail = parse(corpus("out_of_office.eml"))
    assert mail.headers["auto-submitted"] == "auto-replied"
    assert mail.headers["subject"] == "Frånvarande: Re: [#42] Your request"
    assert [name for name, _ in mail.all_headers][:3] == ["From", "To", "Subject"]


def test_subject_is_one_line_without_control_characters():
    mail = parse(
        b"From: a@example.com\r\nSubject: one\r\n\ttwo\x07 =?utf-8?Q?three=0Afour?=\r\n\r\n"
    )
    assert mail.subject == "one two three four"


def test_unparseable_date_is_none_and_naive_date_is_utc():
    assert parse(b"From: a@example.com\r\nDate: yesterday-ish\r\n\r\nx").date is None
    naive = parse(b"From: a@example.com\r\nDate: Mon, 14 Dec 2026 10:00:00 -0000\r\n\r\nx")
    assert naive.date == datetime(2026, 12, 14, 10, 0, tzinfo=UTC)


def test_attachment_without_a_name_gets_one_from_its_type():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\n%PDF\r\n"
        b'--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename="  "\r\n\r\n'
        b"jpg\r\n--b--\r\n"
    )
    assert [a.filename for a in parse(raw).attachments] == ["attachment-1.pdf", "attachment-2.jpg"]


def test_attachment_name_loses_its_path_and_bidi_controls():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b'filename="C:\\\\Users\\\\kim\\\\invoice\xe2\x80\xaefdp.exe"\r\n\r\nMZ\r\n--b--\r\n'
    )
    [file] = parse(raw).attachments
    assert file.filename == "invoicefdp.exe"


def test_empty_input_is_a_parse_error():
    with pytest.raises(ParseError, match="empty"):
        parse(b"")
    with pytest.raises(ParseError, match="empty"):
        parse(b"\r\n  \r\n")


def test_bytes_without_headers_are_a_parse_error():
    with pytest.raises(ParseError, match="no headers"):
        parse(bytes(range(256)) * 10)


def test_empty_body_is_empty_text():
    mail = parse(b"From: a@example.com\r\nSubject: nothing\r\n\r\n")
    assert mail.text == "" and mail.html is None and mail.attachments == []


def _nested(levels: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\ndeep inside\r\n"
    for n in range(levels):
        body = (
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
            + body
            + b"\r\n--b%d--\r\n" % n
        )
    return b"From: a@example.com\r\n" + body


def test_parts_nested_deeper_than_the_cap_are_left_out_with_a_note():
    mail = parse(_nested(30), max_depth=10)
    assert mail.text == ""
    assert "parts nested deeper than 10 levels left out" in mail.notes
    assert parse(_nested(8), max_depth=10).text == "deep inside"


def test_more_multiparts_than_the_cap_is_a_parse_error():
    with pytest.raises(ParseError, match="more than 200 multipart sections"):
        parse(_nested(500))


def test_parts_beyond_the_cap_are_truncated_with_a_note():
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % n for n in range(500))
    raw = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts
    mail = parse(raw + b"--b--\r\n", max_parts=50)
    assert mail.text.count("part ") == 49  # the multipart itself is the first of the 50
    assert "truncated after 50 parts" in mail.notes


def test_deeply_nested_html_is_read_as_text_quickly():
    html = b"<div><span><b><a href='x'>" * 50_000 + b"words at the bottom"
    started = time.monotonic()
    mail = parse(b"From: a@example.com\r\nContent-Type: text/html\r\n\r\n" + html)
    assert time.monotonic() - started < 10
    assert mail.text == "words at the bottom"
    assert "HTML nested too deeply; kept as plain text" in mail.notes


def test_five_megabyte_message_parses_in_reasonable_time():
    attachment = base64.encodebytes(bytes(range(256)) * 10_000).replace(b"\n", b"\r\n")
    raw = (
        b"From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n"
        + b"<p>Hello <b>there</b>, <a href='https://example.com/'>link</a></p>\r\n"
        * 30_000
        + b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\n" + attachment + b"--b--\r\n"
    )
    assert len(raw) > 5_000_000
    started = time.monotonic()
    mail = parse(raw)
    assert time.monotonic() - started < 20
    assert mail.attachments[0].data == bytes(range(256)) * 10_000
    assert mail.text.startswith("Hello there, link (https://example.com/)")


def test_utf8_labelled_us_ascii_is_read_as_utf8():
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    mail = parse(raw + "Hälsningar, Åsa".encode())
    assert mail.text == "Hälsningar, Åsa"
    assert "charset fallback utf-8 (declared us-ascii) for text/plain part" in mail.notes


def test_latin1_label_reads_windows_1252_characters():
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
    assert (
        parse(raw + "\u201cr\xe9sum\xe9\u201d".encode("cp1252")).text == "\u201cr\xe9sum\xe9\u201d"
    )


def test_format_flowed_lines_are_joined():
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
        b"This paragraph was \r\nwrapped by the mailer.\r\n> A quoted line \r\n> goes on.\r\n"
        b" >not a quote\r\n-- \r\nAnna\r\n"
    )
    assert parse(raw).text == (
        "This paragraph was wrapped by the mailer.\n> A quoted line goes on.\n"
        ">not a quote\n-- \nAnna"
    )


def test_encoded_word_file_name_inside_quotes_and_raw_8bit_file_name():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b'--b\r\nContent-Type: application/pdf; name="=?UTF-8?B?'
        + base64.b64encode("계약서.pdf".encode())
        + b'?="\r\n\r\n%PDF\r\n'
        b'--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="'
        + "주문.txt".encode("euc-kr")
        + b'"\r\n\r\nlist\r\n--b--\r\n'
    )
    assert [a.filename for a in parse(raw).attachments] == ["계약서.pdf", "주문.txt"]


def test_base64_encoded_forwarded_message_is_decoded():
    inner = b"From: x@example.com\r\nSubject: The original\r\n\r\nhello\r\n"
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(inner).replace(b"\n", b"\r\n")
        + b"--b--\r\n"
    )
    [forwarded] = parse(raw).attachments
    assert forwarded.filename == "The original.eml"
    assert forwarded.data == inner


def test_address_lists_are_capped():
    to = ", ".join(f"user{n}@example.com" for n in range(1_500))
    mail = parse(f"From: a@example.com\r\nTo: {to}\r\n\r\nx".encode())
    assert len(mail.to) == 1_000
    assert "only the first 1000 addresses of a header kept" in mail.notes


def test_quoted_printable_forwarded_message_is_decoded():
    inner = "From: x@example.com\r\nSubject: Kvitto\r\n\r\nSumma: 120 kr för månaden\r\n".encode()
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n" + quopri.encodestring(inner) + b"\r\n--b--\r\n"
    )
    [forwarded] = parse(raw).attachments
    assert forwarded.filename == "Kvitto.eml"
    assert parse(forwarded.data).text == "Summa: 120 kr för månaden"
