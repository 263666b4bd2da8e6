import re

import pytest

from kb.markdown import MAX_BODY_CHARS, MarkdownError, render, safe_url


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](javascript&#58;alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click]( javascript:alert(1))",
        "[click](java\tscript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<https://ok.example>[x](javascript:alert(1))",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "![img](javascript:alert(1))",
    ],
)
def test_markdown_javascript_link_is_inert(source):
    html = render(source).html
    urls = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert all(u.startswith("https://") for u in urls), urls


def test_markdown_raw_html_is_escaped_not_passed_through():
    html = render('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">').html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_markdown_event_handlers_never_reach_output():
    html = render('[x](https://a.example "t" onmouseover=alert(1))').html
    assert "onmouseover=" not in html.replace("&quot;", '"').split(">")[0]


def test_markdown_external_links_get_noopener_nofollow():
    html = render("[site](https://example.com/a)").html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'href="https://example.com/a"' in html


def test_markdown_relative_and_mail_links_are_kept():
    html = render("[a](/hanbit-pay/ko/faq) [m](mailto:help@example.com) [t](tel:+4611)").html
    assert 'href="/hanbit-pay/ko/faq"' in html
    assert 'href="mailto:help@example.com"' in html
    assert 'href="tel:+4611"' in html


def test_markdown_renders_tables_code_tasks_and_heading_anchors():
    out = render(
        "## Fees\n\n| Plan | Fee |\n|---|--:|\n| Basic | 0 |\n\n"
        "```python\nprint('hi')\n```\n\n- [x] done\n- [ ] todo\n\n### 결제 수단"
    )
    assert "<table>" in out.html and 'style="text-align:right"' in out.html
    assert '<code class="language-python">' in out.html
    assert 'type="checkbox"' in out.html and "checked" in out.html
    assert '<h2 id="fees">' in out.html
    assert out.toc == [[2, "fees", "Fees"], [3, "결제-수단", "결제 수단"]]


def test_markdown_plain_text_has_no_markup():
    out = render("## Title\n\nSome **bold** and `code` [link](https://x.example).")
    assert out.text == "Title Some bold and code link ."


def test_markdown_body_over_the_cap_is_a_validation_error():
    with pytest.raises(MarkdownError):
        render("a" * (MAX_BODY_CHARS + 1))


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://x", True),
        ("http://x", True),
        ("mailto:a@b", True),
        ("tel:1", True),
        ("/rel/path", True),
        ("#anchor", True),
        ("page?x=1", True),
        ("//cdn.example/x", True),
        ("javascript:x", False),
        ("JAVASCRIPT:x", False),
        ("&#x6A;avascript:x", False),
        ("\x01javascript:x", False),
        ("data:text/html,x", False),
        ("file:///etc/passwd", False),
        ("ｊａｖａｓｃｒｉｐｔ:x", False),
    ],
)
def test_safe_url_allow_list(url, ok):
    assert safe_url(url) is ok
