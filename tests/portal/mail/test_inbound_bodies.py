"""Mail bodies: HTML made safe, HTML made readable text, a reply split from its history."""

from pathlib import Path

from portal.mail.inbound.bodies import html_to_text, sanitize_html, split_quoted
from portal.mail.inbound.parse import parse

CORPUS = Path(__file__).resolve().parents[2] / "mail"


def test_sanitised_html_has_no_script_style_or_event_handler():
    html = sanitize_html(
        '<p onclick="x()">Hi<script>alert(1)</script></p><style>p{}</style>'
        '<a href="javascript:alert(1)">bad</a><iframe src="https://evil.example/"></iframe>'
    )
    assert html == '<p>Hi</p><a rel="noopener noreferrer nofollow">bad</a>'


def test_sanitised_html_drops_remote_images_and_keeps_inline_ones():
    html = sanitize_html(
        '<img src="https://tracker.example/p.gif"><img src="HTTP://x/y.png" alt="y">'
        '<img src="//cdn.example/z.png"><img src="cid:logo@x" alt="logo">'
    )
    assert html == '<img src="cid:logo@x" alt="logo">'


def test_sanitised_links_open_safely():
    html = sanitize_html('<a href="https://example.com/" target="_blank">x</a>')
    assert html == '<a href="https://example.com/" rel="noopener noreferrer nofollow">x</a>'


def test_html_to_text_paragraphs_breaks_lists_and_links():
    text = html_to_text(
        "<h1>Order</h1><p>Line one<br>line two</p>"
        "<ol><li>first</li><li>second</li></ol>"
        '<p>See <a href="https://example.com/help">the help page</a> or '
        '<a href="mailto:help@example.com">help@example.com</a>.</p>'
    )
    assert text == (
        "Order\n\nLine one\nline two\n\n1. first\n2. second\n\n"
        "See the help page (https://example.com/help) or help@example.com."
    )


def test_html_to_text_skips_scripts_styles_and_titles_and_decodes_entities():
    text = html_to_text(
        "<html><head><title>T</title><style>p{color:red}</style></head>"
        "<body><p>Fish &amp; chips &lt;3</p><script>var x = 1;</script></body></html>"
    )
    assert text == "Fish & chips <3"


def test_html_to_text_quotes_blockquotes():
    text = html_to_text("<p>Yes.</p><blockquote><p>Can we close it?</p></blockquote>")
    assert text == "Yes.\n\n> Can we close it?"


def test_html_to_text_of_deeply_nested_html_is_its_words():
    assert html_to_text("<div><b>" * 5000 + "bottom") == "bottom"


def test_split_on_a_wrapped_on_wrote_line_and_signature():
    text = (
        "Thanks, that fixed it.\n\nOn Mon, Dec 14, 2026 at 4:00 PM Support <s@x.test>\nwrote:\n\n"
        "> Please try again now.\n\n-- \nAnna"
    )
    now, rest = split_quoted(text)
    assert now == "Thanks, that fixed it."
    assert rest.startswith("On Mon, Dec 14") and rest.endswith("-- \nAnna")


def test_split_on_a_signature_alone():
    assert split_quoted("Works now.\n-- \nAnna\nExample AB") == (
        "Works now.",
        "-- \nAnna\nExample AB",
    )


def test_split_on_original_message_separator():
    now, rest = split_quoted("Done.\n\n-----Original Message-----\nFrom: x\nOld text")
    assert now == "Done." and rest.startswith("-----Original Message-----")


def test_split_on_an_outlook_header_block_with_its_underscore_line():
    text = (
        "Yes, please close it.\n\nErik\n\n________________________________\n"
        "From: Support <s@x.test>\nSent: Monday, December 14, 2026 4:00 PM\nTo: Erik\n\nClose?"
    )
    now, rest = split_quoted(text)
    assert now == "Yes, please close it.\n\nErik"
    assert rest.startswith("________________________________\nFrom: Support")


def test_split_on_swedish_and_korean_outlook_blocks():
    assert split_quoted("Tack!\n\nFrån: Support\nSkickat: den 14 december 2026\nHej")[0] == "Tack!"
    assert split_quoted("감사합니다.\n\n보낸 사람: 지원팀\n보낸 날짜: 2026-12-14\n안녕하세요")[
        0
    ] == ("감사합니다.")


def test_split_on_korean_attribution():
    text = (
        "확인했습니다.\n\n2026년 12월 14일 (월) 오후 4:00, 지원팀 <s@x.test>님이 작성:\n"
        "> 다시 해 보세요."
    )
    assert split_quoted(text) == (
        "확인했습니다.",
        "2026년 12월 14일 (월) 오후 4:00, 지원팀 <s@x.test>님이 작성:\n> 다시 해 보세요.",
    )


def test_split_on_swedish_attribution():
    text = (
        "Nu fungerar det.\n\nDen mån 14 dec. 2026 kl 16:00 skrev Support <s@x.test>:\n> Prova igen."
    )
    assert split_quoted(text)[0] == "Nu fungerar det."


def test_split_trailing_quote_block_without_attribution():
    assert split_quoted("Agreed.\n\n> Shall we?\n> Yes") == ("Agreed.", "> Shall we?\n> Yes")


def test_answers_between_quotes_stay_in_the_first_part():
    text = "> Is it blue?\nYes.\n> Is it big?\nNo."
    assert split_quoted(text) == (text, "")


def test_first_part_is_never_empty():
    assert split_quoted("-- \nAnna") == ("-- \nAnna", "")
    assert split_quoted("> only a quote") == ("> only a quote", "")
    assert split_quoted("") == ("", "")


def test_text_without_history_stays_whole():
    assert split_quoted("Hello,\nmy card is declined.") == ("Hello,\nmy card is declined.", "")


def test_gmail_reply_from_the_corpus_keeps_only_the_answer():
    mail = parse((CORPUS / "reply_quoted_signature.eml").read_bytes())
    now, rest = split_quoted(mail.text)
    assert now == "Thanks, that fixed it."
    assert "> Please try again now." in rest and rest.endswith("-- \nAnna Åkesson, Example AB")


def test_outlook_reply_from_the_corpus_keeps_only_the_answer():
    mail = parse((CORPUS / "outlook_reply.eml").read_bytes())
    now, rest = split_quoted(mail.text)
    assert now == "Yes, please close the ticket.\n\nErik"
    assert rest.endswith("Can we close this ticket?")
