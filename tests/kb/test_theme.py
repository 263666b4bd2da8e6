"""kb.theme: the checks a brand's theme passes before it is saved, without Flask."""

import pytest

from kb import theme, weblinks


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 12, "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x01\x00\x01\x00" + b"\x00" * 10, "image/x-icon"),
        (b"\x00\x00\x01\x00\x00\x00" + b"\x00" * 10, None),  # an icon file holding no image
        (b'<svg xmlns="http://www.w3.org/2000/svg">', None),
        (b"<!doctype html><script>", None),
        (b"GIF89a" + b"\x00" * 10, None),  # fine for articles, not offered for a theme
    ],
)
def test_sniff_image_knows_only_the_theme_types(head, expected):
    assert theme.sniff_image(head) == expected


@pytest.mark.parametrize(
    ("primary", "accent", "errors"),
    [
        ("#1f4e79", "#f2a900", {}),
        ("#1F4E79", "#F2A900", {}),
        ("#ffffff", "#f2a900", {"primary_color": ["color_unreadable"]}),
        ("#777777", "#f2a900", {"primary_color": ["color_unreadable"]}),  # 4.48:1
        ("#767676", "#f2a900", {}),  # 4.54:1
        ("1f4e79", "#f2a900", {"primary_color": ["color_invalid"]}),
        ("#1f4e79", "url(x)", {"accent_color": ["color_invalid"]}),
    ],
)
def test_colours_are_hex_and_white_text_stays_readable(primary, accent, errors):
    assert theme.color_errors(primary, accent) == errors


def test_empty_link_rows_are_dropped_and_bad_ones_named_by_row():
    links, errors = theme.header_link_errors(
        [("", ""), ("Status", "https://status.example.com"), ("Evil", "javascript:alert(1)")]
    )
    assert links == [
        {"label": "Status", "url": "https://status.example.com"},
        {"label": "Evil", "url": "javascript:alert(1)"},
    ]
    assert errors == {2: ["link_url_invalid"]}


def test_more_than_five_links_are_refused():
    _links, errors = theme.header_link_errors(
        [(f"L{i}", f"https://e.example/{i}") for i in range(6)]
    )
    assert errors == {5: ["too_many_links"]}


def test_shown_links_skip_whatever_is_not_http_whatever_is_stored():
    stored = [
        {"label": "Ok", "url": "http://a.example/"},
        {"label": "Bad", "url": " javascript:alert(1)"},
        {"label": "", "url": "https://b.example/"},
        "not a link",
        {"label": "Also ok", "url": "https://c.example/"},
    ]
    assert [link["label"] for link in weblinks.shown_header_links(stored)] == ["Ok", "Also ok"]
    assert weblinks.shown_header_links(None) == []
