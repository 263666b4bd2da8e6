"""The keyboard focus ring is visible (3:1, WCAG 1.4.11) in every brand's colours."""

import re
import tomllib
from pathlib import Path

import pytest

from portal.demo import CONTENT_DIR

CSS = Path(__file__).resolve().parents[3] / "portal" / "static" / "css" / "portal.css"
WHITE, SOFT = "#ffffff", "#f6f8fa"


# Written out here rather than imported: the test checks the app's colours, not its arithmetic.
def _luminance(color: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _tint(color: str, weight: float) -> str:
    """color-mix(in srgb, color weight, white)."""
    return "#" + "".join(
        f"{round(int(color[i : i + 2], 16) * weight + 255 * (1 - weight)):02x}" for i in (1, 3, 5)
    )


def _variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


def _outline_color(page: str, selector_pattern: str) -> str:
    """The colour of the outline the stylesheet gives `selector_pattern`, with the page's
    own :root variables (the brand's) over the stylesheet's defaults."""
    css = CSS.read_text(encoding="utf-8")
    rule = re.search(selector_pattern + r"[^{]*\{([^}]*)\}", css)
    assert rule, f"no rule for {selector_pattern}"
    declared = re.search(r"outline(?:-color)?:[^;]*?(var\(--([a-z-]+)\)|#[0-9a-fA-F]{6})", rule[1])
    assert declared, f"no outline colour in {rule[0]!r}"
    if declared[2] is None:
        return declared[1]
    inline = "".join(re.findall(r"<style>(.*?)</style>", page, re.S))
    variables = {**_variables(css), **_variables(inline)}
    return variables[declared[2]]


def _brands() -> list[dict]:
    return [
        tomllib.loads(path.read_text(encoding="utf-8"))["brand"]
        for path in sorted(CONTENT_DIR.glob("*.toml"))
    ]


@pytest.mark.parametrize("demo", _brands(), ids=lambda b: b["slug"])
def test_focus_outline_has_three_to_one_contrast_in_each_brand(client, make, demo):
    """Issue 15 item 24: the focus outline had 2.15:1 (Hanbit) and 1.67:1 (Norrsken) on white."""
    primary, accent = demo["primary_color"], demo["accent_color"]
    make.brand(slug="shown", primary_color=primary, accent_color=accent)
    page = client.get("/shown/en/").get_data(as_text=True)

    ring = _outline_color(page, r"\na:focus-visible")
    for background in (WHITE, SOFT, _tint(primary, 0.1)):  # page, soft rows, search band
        assert _contrast(ring, background) >= 3, (ring, background)
    header_ring = _outline_color(page, r"\.site-header :focus-visible")
    assert _contrast(header_ring, primary) >= 3
    selected = _outline_color(page, r"\n\.instant-item:focus ")
    assert _contrast(selected, SOFT) >= 3


def test_focus_outline_has_three_to_one_contrast_without_a_brand(client):
    """Issue 15 item 24: pages outside a help center (sign-in) use the stylesheet's colours."""
    page = client.get("/login").get_data(as_text=True)
    ring = _outline_color(page, r"\na:focus-visible")
    assert _contrast(ring, WHITE) >= 3
