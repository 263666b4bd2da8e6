"""Every UI string in the code and templates is translated into ko, ja and sv."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2")]


def ui_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", ["ko", "ja", "sv"])
def test_every_ui_string_is_translated(locale):
    path = ROOT / "portal" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    missing = []
    for msgid in sorted(ui_strings()):
        message = catalog.get(msgid)
        strings = message.string if message else None
        if not strings or (isinstance(strings, tuple) and not all(strings)) or message.fuzzy:
            missing.append(msgid)
    assert missing == [], f"{locale}: run pybabel extract/update and translate: {missing}"
