"""Brand colour arithmetic: WCAG contrast ratios and a focus colour that stays visible."""

WHITE = "#ffffff"
# portal.css's light surfaces besides white: --soft (hovered rows, the selected instant result).
SOFT = "#f6f8fa"
# WCAG 2.2, 1.4.11 (non-text contrast): a focus indicator needs 3:1 against its surroundings.
MIN_FOCUS_CONTRAST = 3.0


def _channels(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(color: str) -> float:
    """Relative luminance of a #rrggbb colour (WCAG 2)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two #rrggbb colours, from 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def mix(a: str, b: str, weight: float) -> str:
    """`weight` of `a` and the rest of `b`, per sRGB channel (CSS `color-mix(in srgb, ...)`)."""
    return "#" + "".join(
        f"{round(x * weight + y * (1 - weight)):02x}"
        for x, y in zip(_channels(a), _channels(b), strict=True)
    )


def search_band(primary: str) -> str:
    """The band behind the search box: 10% of the brand colour on white (portal.css)."""
    return mix(primary, WHITE, 0.1)


def focus_color(accent: str, backgrounds: tuple[str, ...] = (WHITE, SOFT)) -> str:
    """The brand's accent for focus rings, darkened just enough (same hue) to reach 3:1 on
    every background: a light amber accent is a fine highlight but an invisible outline."""
    for step in range(21):
        candidate = mix("#000000", accent, step / 20)
        if all(contrast(candidate, bg) >= MIN_FOCUS_CONTRAST for bg in backgrounds):
            return candidate
    return "#000000"
